"""What training and transform jobs share: Describe, status, logs, stop, and waiting with progress."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Self

from opensage.sdk._errors import JobFailedError, WaitTimeoutError, translated, translating
from opensage.sdk._logs import LogReader
from opensage.sdk._progress import Steps, display_for, status_text

if TYPE_CHECKING:
    from opensage.sdk._session import Session

TERMINAL_STATUSES = ("Completed", "Failed", "Stopped")
# Polling starts fast (jobs here take seconds, not minutes) and settles at a second.
_FIRST_POLL_SECONDS = 0.1
_MAX_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class JobKind:
    """How the API names one kind of job (``Training``, ``Transform``, ``Processing``): its
    operations, fields and log group all follow from that one word."""

    title: str

    @property
    def label(self) -> str:
        return f"{self.title} job"

    @property
    def describe_operation(self) -> str:
        return f"describe_{self.title.lower()}_job"

    @property
    def stop_operation(self) -> str:
        return f"stop_{self.title.lower()}_job"

    @property
    def list_operation(self) -> str:
        return f"list_{self.title.lower()}_jobs"

    @property
    def summaries_field(self) -> str:
        return f"{self.title}JobSummaries"

    @property
    def name_field(self) -> str:
        return f"{self.title}JobName"

    @property
    def status_field(self) -> str:
        return f"{self.title}JobStatus"

    @property
    def log_group(self) -> str:
        return f"/aws/sagemaker/{self.title}Jobs"

    def describe(self, sagemaker: Any, name: str) -> dict[str, Any]:
        found: dict[str, Any] = getattr(sagemaker, self.describe_operation)(**{self.name_field: name})
        return found


TRAINING_JOBS = JobKind("Training")
TRANSFORM_JOBS = JobKind("Transform")
PROCESSING_JOBS = JobKind("Processing")


class Job:
    """A job on the server, by name. Properties read the latest Describe (cached once the job has ended)."""

    _kind: ClassVar[JobKind]

    def __init__(self, session: Session, name: str) -> None:
        self._session = session
        self.name = name
        self._last: dict[str, Any] | None = None

    @property
    def endpoint_url(self) -> str:
        return self._session.endpoint_url

    def __repr__(self) -> str:
        status = self._last[self._kind.status_field] if self._last else "?"
        return f"<{type(self).__name__} {self.name} {status}>"

    @translated
    def describe(self) -> dict[str, Any]:
        """The job's Describe response, fresh from the server (without ResponseMetadata)."""
        method = getattr(self._session.sagemaker, self._kind.describe_operation)
        description: dict[str, Any] = method(**{self._kind.name_field: self.name})
        description.pop("ResponseMetadata", None)
        self._last = description
        return description

    def _current(self) -> dict[str, Any]:
        if self._last is not None and self._last[self._kind.status_field] in TERMINAL_STATUSES:
            return self._last
        return self.describe()

    @property
    def status(self) -> str:
        """``InProgress``, ``Completed``, ``Failed``, ``Stopping`` or ``Stopped``."""
        return str(self._current()[self._kind.status_field])

    @property
    def failure_reason(self) -> str | None:
        reason = self._current().get("FailureReason")
        return None if reason is None else str(reason)

    @translated
    def stop(self) -> None:
        """Ask the server to stop the job; ``wait()`` then returns once it is ``Stopped``."""
        getattr(self._session.sagemaker, self._kind.stop_operation)(**{self._kind.name_field: self.name})
        self._last = None

    def logs(self, *, follow: bool = False) -> Iterator[str]:
        """The job's log lines so far; with ``follow``, more as they come until the job ends.

        Example::

            for line in run.logs():
                print(line)
        """
        reader = LogReader(self._session.logs, self._kind.log_group, self.name)
        with translating(self.endpoint_url):
            while True:
                ended = not follow or self.describe()[self._kind.status_field] in TERMINAL_STATUSES
                for line in reader.read_new():
                    yield line.message
                if ended:
                    return
                time.sleep(_MAX_POLL_SECONDS / 2)

    @translated
    def wait(self, *, timeout: float | None = None, progress: bool = False) -> Self:
        """Wait until the job ends; raise ``JobFailedError`` with its FailureReason if it failed.

        A ``Stopped`` job returns normally (what it saved before stopping is kept). With
        ``progress`` a bar shows its status and the latest metric line of its log. Past
        ``timeout`` seconds ``WaitTimeoutError`` is raised and the job goes on.
        """
        display = display_for(progress, self.name, self._steps())
        reader = (
            LogReader(self._session.logs, self._kind.log_group, self.name) if display.wants_logs else None
        )
        deadline = None if timeout is None else time.monotonic() + timeout
        delay = _FIRST_POLL_SECONDS
        description: dict[str, Any] = {}
        try:
            while True:
                description = self.describe()
                display.status(status_text(description, self._kind.status_field))
                for line in reader.read_new() if reader else ():
                    display.line(line.message)
                if description[self._kind.status_field] in TERMINAL_STATUSES:
                    break
                if deadline is not None and time.monotonic() > deadline:
                    raise WaitTimeoutError(f"{self._kind.label} {self.name} did not end within {timeout} s")
                time.sleep(delay)
                delay = min(delay * 1.5, _MAX_POLL_SECONDS)
        finally:
            display.close(self._summary(description))
        if description[self._kind.status_field] == "Failed":
            reason = str(description.get("FailureReason") or "the server gave no reason")
            raise JobFailedError(self._kind.label, self.name, reason)
        return self

    def _steps(self) -> Steps | None:
        """How the log counts progress, when it does; jobs override this."""
        return None

    def _summary(self, description: dict[str, Any]) -> str:
        status = description.get(self._kind.status_field, "still running")
        return f"{self._kind.label} {self.name}: {status}"
