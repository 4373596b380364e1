"""The log store interface: CloudWatch-style groups of append-only streams of timestamped events.

Job runners append with a ``LogWriter`` (one ``write`` = one event); the logs service and the
CLI read with ``read_forward`` / ``read_backward`` from opaque positions, which is what lets a
page token resume without rescanning a stream. Missing groups and streams raise
``LogResourceNotFoundError`` with CloudWatch's messages.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

from opensage.errors import LogResourceNotFoundError

GROUP_NOT_FOUND_MESSAGE = "The specified log group does not exist."
STREAM_NOT_FOUND_MESSAGE = "The specified log stream does not exist."


def now_ms() -> int:
    """Wall-clock time in milliseconds since the epoch, CloudWatch's unit for every timestamp."""
    return time.time_ns() // 1_000_000


def group_not_found() -> LogResourceNotFoundError:
    return LogResourceNotFoundError(GROUP_NOT_FOUND_MESSAGE)


def stream_not_found() -> LogResourceNotFoundError:
    return LogResourceNotFoundError(STREAM_NOT_FOUND_MESSAGE)


def strip_line_ending(message: str) -> str:
    """One line of output as an event message: without the newline that ended it, if any."""
    if message.endswith("\r\n"):
        return message[:-2]
    if message.endswith("\n"):
        return message[:-1]
    return message


@dataclass(frozen=True)
class InputLogEvent:
    """An event as PutLogEvents hands it over; the store adds the ingestion time."""

    timestamp: int
    message: str


@dataclass(frozen=True)
class LogEvent:
    """A stored event and where it lies in its stream.

    ``position`` is where the event starts and ``next_position`` where the event after it
    starts. Both are opaque to callers: they only hand them back to ``read_forward`` (which
    starts with the event at a position) or ``read_backward`` (which starts with the event
    that ends at a position).
    """

    timestamp: int
    message: str
    ingestion_time: int
    position: int
    next_position: int


@dataclass(frozen=True)
class LogStreamInfo:
    group: str
    name: str
    creation_time: int
    # None while the stream has no events.
    first_event_timestamp: int | None
    last_event_timestamp: int | None
    last_ingestion_time: int | None
    stored_bytes: int


@dataclass(frozen=True)
class LogGroupInfo:
    name: str
    creation_time: int
    stored_bytes: int


class LogWriter(ABC):
    """Appends the events of one stream; what one ``write`` passes becomes one whole event.

    Readers in other processes see each event whole or not at all, as soon as ``write``
    returns. A writer may be shared by threads (a job's stdout and stderr readers).
    """

    @abstractmethod
    def write(self, message: str, timestamp_ms: int | None = None) -> None:
        """Append one event; a trailing newline is dropped, an empty message is skipped.

        ``timestamp_ms`` is when the event happened (default: now).
        """

    @abstractmethod
    def flush(self) -> None:
        """Make every event written so far durable against a machine crash."""

    @abstractmethod
    def close(self) -> None:
        """Flush and release the stream; further writes raise ``ValueError``. Idempotent."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class LogStore(ABC):
    """Log groups holding log streams of events, shared by the processes of one installation."""

    # --- groups -------------------------------------------------------------------------------

    @abstractmethod
    def create_group(self, group: str) -> bool:
        """Create a group; False if it already existed."""

    @abstractmethod
    def delete_group(self, group: str) -> None:
        """Delete a group with all its streams."""

    @abstractmethod
    def list_groups(self, prefix: str = "") -> list[str]:
        """Names of the groups starting with ``prefix``, sorted."""

    @abstractmethod
    def group_info(self, group: str) -> LogGroupInfo: ...

    @abstractmethod
    def group_exists(self, group: str) -> bool: ...

    # --- streams ------------------------------------------------------------------------------

    @abstractmethod
    def create_stream(self, group: str, stream: str) -> bool:
        """Create a stream in an existing group; False if it already existed."""

    @abstractmethod
    def delete_stream(self, group: str, stream: str) -> None: ...

    @abstractmethod
    def list_streams(self, group: str, prefix: str = "") -> list[str]:
        """Names of the group's streams starting with ``prefix``, sorted."""

    @abstractmethod
    def stream_info(self, group: str, stream: str) -> LogStreamInfo: ...

    @abstractmethod
    def stream_exists(self, group: str, stream: str) -> bool: ...

    # --- events -------------------------------------------------------------------------------

    @abstractmethod
    def open_writer(self, group: str, stream: str) -> LogWriter:
        """A writer for a stream, creating the group and the stream if they do not exist."""

    @abstractmethod
    def put_events(self, group: str, stream: str, events: Sequence[InputLogEvent]) -> None:
        """Append a batch to an existing stream, all of it visible at once."""

    @abstractmethod
    def end_position(self, group: str, stream: str) -> int:
        """The position after the stream's last whole event, where ``read_backward`` starts."""

    @abstractmethod
    def read_forward(self, group: str, stream: str, position: int = 0) -> Iterator[LogEvent]:
        """Events in stored order, from the one at ``position`` to the last one written so far.

        Missing groups and streams raise at the call, not when the iterator is first used.
        """

    @abstractmethod
    def read_backward(self, group: str, stream: str, position: int | None = None) -> Iterator[LogEvent]:
        """Events in reverse stored order, from the one ending at ``position`` (default: the end)."""
