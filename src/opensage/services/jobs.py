"""What every kind of job shares: its statuses, its job process, and keeping its record true.

A job is a row in the metadata store plus a job process the executor starts. The process
reports through ``<job dir>/status.json``; ``reconcile`` (run by the platform) copies new
reports into the store and notices a process that died without reporting. Because that
works from files alone, a restarted server picks up jobs that kept running, records those
that ended meanwhile, and relaunches a job whose process never began.

``JobService`` is that machinery; a job kind (training, transform, ...) subclasses it and
says how to describe its run to the job process and how a report changes its record.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from opensage.errors import AlreadyExistsError, JobNotFoundError, ValidationError
from opensage.executor.base import Executor
from opensage.executor.status import STATUS_FILE, RunStatus, read_status
from opensage.services.documents import Documents, Stamp
from opensage.store import ListQuery

logger = logging.getLogger(__name__)

# A job process that dies before it writes its first status is started again this often.
MAX_LAUNCHES = 2


class JobStatus(StrEnum):
    """TrainingJobStatus, TransformJobStatus and ProcessingJobStatus share these values."""

    IN_PROGRESS = "InProgress"
    COMPLETED = "Completed"
    FAILED = "Failed"
    STOPPING = "Stopping"
    STOPPED = "Stopped"

    def is_terminal(self) -> bool:
        return self in (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.STOPPED)


ACTIVE_STATUSES = (JobStatus.IN_PROGRESS, JobStatus.STOPPING)


class StampedJob(Protocol):
    """What every job kind's stored document has, and the repository indexes."""

    @property
    def name(self) -> str: ...
    @property
    def arn(self) -> str: ...
    @property
    def status(self) -> JobStatus: ...
    @property
    def creation_time(self) -> datetime: ...
    @property
    def last_modified_time(self) -> datetime: ...


def job_stamp(job: StampedJob) -> Stamp:
    return Stamp(job.name, job.arn, job.status.value, job.creation_time, job.last_modified_time)


def from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


# --- following job processes ---


class ProcessState(StrEnum):
    RUNNING = "running"
    # Gone, having written its outcome (carried by the observation's report).
    ENDED = "ended"
    # Gone before writing any status: it may be started again.
    NEVER_STARTED = "never-started"
    # Gone without writing an outcome: killed, or crashed.
    VANISHED = "vanished"


@dataclass(frozen=True)
class Observation:
    state: ProcessState
    # A report the service has not copied into the store yet; None when nothing changed.
    report: RunStatus | None = None


class StatusWatch:
    """Turns a job's status file and the executor's liveness answer into an Observation."""

    def __init__(self, executor: Executor) -> None:
        self._executor = executor
        # Job -> (mtime_ns, size) of the status file last reported.
        self._seen: dict[str, tuple[int, int]] = {}

    def observe(self, name: str, job_dir: Path) -> Observation:
        report: RunStatus | None = None
        stamp = _stamp(job_dir / STATUS_FILE)
        if stamp is not None and stamp != self._seen.get(name):
            report = read_status(job_dir)
            if report is not None:
                self._seen[name] = stamp
                if report.outcome is not None:
                    self._seen.pop(name, None)
                    return Observation(ProcessState.ENDED, report)
        if self._executor.is_alive(job_dir):
            return Observation(ProcessState.RUNNING, report)
        # The process is gone. It may have written its outcome just now: read once more.
        last = read_status(job_dir)
        self._seen.pop(name, None)
        if last is not None and last.outcome is not None:
            return Observation(ProcessState.ENDED, last)
        if last is None:
            return Observation(ProcessState.NEVER_STARTED)
        return Observation(ProcessState.VANISHED, report)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size


# --- the service ---


class JobRecord(Protocol):
    """The fields every job dataclass has (its name and ARN come from its spec)."""

    status: JobStatus
    job_dir: str
    launches: int
    last_modified_time: datetime

    @property
    def name(self) -> str: ...


J = TypeVar("J", bound=JobRecord)


class JobService(ABC, Generic[J]):
    #: How messages name the kind: "training job".
    kind_label: str
    #: The job process: ``python -m <runner_module> <job dir>``.
    runner_module: str

    def __init__(self, documents: Documents[J], executor: Executor, clock: Callable[[], datetime]) -> None:
        self.documents = documents
        self._executor = executor
        self._clock = clock
        self._watch = StatusWatch(executor)
        self._reconcile_lock = threading.Lock()
        # Jobs this process is starting right now; reconcile leaves them to their launcher.
        self._launching: set[str] = set()
        self._launching_lock = threading.Lock()

    # --- hooks ---

    @abstractmethod
    def write_run(self, job: J) -> None:
        """Write ``<job dir>/job.json``: everything the job process needs."""

    @abstractmethod
    def copy_report(self, job: J, report: RunStatus) -> None:
        """Bring ``job`` (not yet terminal) up to date with its process's latest report."""

    @abstractmethod
    def finish(self, job: J, status: JobStatus, reason: str | None, message: str) -> None:
        """End ``job`` with ``status`` when its process can no longer say how it ended."""

    def mark_stopping(self, job: J) -> None:
        job.status = JobStatus.STOPPING

    # --- the API ---

    def describe(self, name: str) -> J:
        found = self.documents.get(name)
        if found is None:
            raise JobNotFoundError(f"Requested resource not found: {self.kind_label} {name} does not exist.")
        return found

    def list_jobs(self, query: ListQuery) -> tuple[list[J], str | None]:
        return self.documents.page(query)

    def stop(self, name: str) -> None:
        job = self.describe(name)
        if job.status == JobStatus.STOPPING:
            return
        if job.status != JobStatus.IN_PROGRESS:
            raise ValidationError(
                f"The {self.kind_label} {name} is {job.status.value}; only an InProgress job can be stopped"
            )

        def stopping(current: J) -> None:
            if current.status == JobStatus.IN_PROGRESS:
                self.mark_stopping(current)
                current.last_modified_time = self._clock()

        self.documents.update(name, stopping)
        self._executor.stop(Path(job.job_dir))

    # --- keeping the store true ---

    def reconcile(self) -> None:
        """Bring every active job's record up to date with its job process."""
        with self._reconcile_lock:
            for job in self.documents.with_status([status.value for status in ACTIVE_STATUSES]):
                try:
                    self._reconcile_job(job)
                except Exception:
                    logger.exception("could not reconcile %s %s", self.kind_label, job.name)

    def recover(self) -> None:
        """After a restart: record jobs that ended meanwhile, relaunch those that never started."""
        self.reconcile()

    def shutdown(self, timeout: float) -> None:
        """Stop every running job, wait up to ``timeout`` for them to report, then end the rest."""
        for job in self.documents.with_status([JobStatus.IN_PROGRESS.value]):
            try:
                self.stop(job.name)
            except ValidationError:
                continue
        active = [status.value for status in ACTIVE_STATUSES]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.reconcile()
            if not self.documents.with_status(active):
                return
            time.sleep(0.1)
        for job in self.documents.with_status(active):
            self._executor.kill(Path(job.job_dir))
            self._end(job.name, JobStatus.STOPPED, None, "Stopped when the opensage server shut down")

    # --- for subclasses ---

    def create_and_launch(self, job: J, tags: dict[str, str], already_exists: str) -> J:
        """Store a new job (AlreadyExistsError with ``already_exists`` if its name is taken) and start it."""
        with self._launching_job(job.name):
            try:
                self.documents.create(job, tags)
            except AlreadyExistsError as exc:
                raise AlreadyExistsError(already_exists) from exc
            return self._launch(job)

    # --- internals ---

    @contextmanager
    def _launching_job(self, name: str) -> Iterator[None]:
        with self._launching_lock:
            self._launching.add(name)
        try:
            yield
        finally:
            with self._launching_lock:
                self._launching.discard(name)

    def _launch(self, job: J) -> J:
        job_dir = Path(job.job_dir)
        if job.launches == 0 and job_dir.exists():
            # Left by an earlier job of the same name whose record is gone (a wiped database).
            shutil.rmtree(job_dir)
        try:
            self.write_run(job)
            self._executor.launch(job_dir, module=self.runner_module)
        except Exception as exc:
            logger.exception("could not start %s %s", self.kind_label, job.name)
            self._end(job.name, JobStatus.FAILED, f"InternalServerError: {exc}", f"{self.kind_label} failed")
            return self.describe(job.name)

        def count_launch(current: J) -> None:
            current.launches += 1

        return self.documents.update(job.name, count_launch)

    def _reconcile_job(self, job: J) -> None:
        with self._launching_lock:
            if job.name in self._launching:
                return
        observed = self._watch.observe(job.name, Path(job.job_dir))
        if observed.report is not None:
            self._apply(job.name, observed.report)
        if observed.state == ProcessState.NEVER_STARTED and job.launches < MAX_LAUNCHES:
            logger.warning("%s %s never started; starting it again", self.kind_label, job.name)
            self._launch(job)
        elif observed.state in (ProcessState.NEVER_STARTED, ProcessState.VANISHED):
            if job.status == JobStatus.STOPPING:
                self._end(job.name, JobStatus.STOPPED, None, f"{self.kind_label.capitalize()} stopped")
            else:
                self._end(
                    job.name,
                    JobStatus.FAILED,
                    f"InternalServerError: the {self.kind_label}'s process ended without reporting how the job "
                    f"ended (for example, it was killed); its own log is {Path(job.job_dir) / 'runner.log'}",
                    f"{self.kind_label.capitalize()} failed",
                )

    def _apply(self, name: str, report: RunStatus) -> None:
        def copy(job: J) -> None:
            if not job.status.is_terminal():
                self.copy_report(job, report)
                job.last_modified_time = self._clock()

        self.documents.update(name, copy)

    def _end(self, name: str, status: JobStatus, reason: str | None, message: str) -> None:
        def end(job: J) -> None:
            if not job.status.is_terminal():
                self.finish(job, status, reason, message)
                job.last_modified_time = self._clock()

        self.documents.update(name, end)
