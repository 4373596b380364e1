"""The log store on the local file system: one append-only file of records per stream.

Layout under the root (``<OPENSAGE_HOME>/logs``), names encoded by ``names.encode_name``::

    <group>/group.json              {"name", "creationTime"}: the group exists once this does
    <group>/streams/<stream>.json   {"name", "creationTime"}: the stream exists once this does
    <group>/streams/<stream>.log    its events, one record per line (see ``records``)
    .trash/                         groups being deleted

Writers in any process append whole records with one ``write`` on an ``O_APPEND`` descriptor,
so concurrent writers never interleave and readers never see half an event. Metadata files
are created once, atomically (``link`` of a fully written temporary file), and never
rewritten; everything else DescribeLogStreams reports is read from the stream's first and
last records and its size, so it cannot disagree with the events after a crash.

Events are kept, and read back, in the order they were appended. A job's writer stamps them
as they arrive, so for job logs that is timestamp order; PutLogEvents batches sent out of
order stay in arrival order, where CloudWatch would sort them.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from opensage.errors import ValidationError
from opensage.logstore import names, records
from opensage.logstore.base import (
    InputLogEvent,
    LogEvent,
    LogGroupInfo,
    LogStore,
    LogStreamInfo,
    LogWriter,
    group_not_found,
    now_ms,
    stream_not_found,
    strip_line_ending,
)

GROUP_FILE = "group.json"
STREAMS_DIR = "streams"
TRASH_DIR = ".trash"
LOCK_FILE = ".lock"
META_SUFFIX = ".json"
EVENTS_SUFFIX = ".log"
# CloudWatch's largest event (1 MB, counting 26 bytes of overhead); longer output lines are cut.
MAX_MESSAGE_BYTES = 1_048_576 - 26

Clock = Callable[[], int]


def truncate_message(message: str) -> str:
    encoded = message.encode("utf-8", "replace")
    if len(encoded) <= MAX_MESSAGE_BYTES:
        return message
    return encoded[:MAX_MESSAGE_BYTES].decode("utf-8", "ignore")


def _write_all(fd: int, data: bytes) -> None:
    # One write() puts a whole record in place; a short write (disk full, signal) is finished
    # rather than left as a torn record.
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _open_for_append(path: Path) -> int:
    # Readable too, to look at the last byte before the first append (see LocalLogWriter).
    return os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o644)


def _create_once(path: Path, document: dict[str, Any]) -> bool:
    """Write ``path`` whole if it does not exist; False if another process got there first."""
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "wb") as file:
            file.write(json.dumps(document).encode("utf-8", "surrogatepass"))
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        temporary.unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """An exclusive lock across processes, for the rare changes to a group's set of streams."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_document(path: Path) -> dict[str, Any] | None:
    try:
        document = json.loads(path.read_bytes().decode("utf-8", "surrogatepass"))
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None  # missing, or damaged outside opensage: either way not a usable record
    usable = isinstance(document, dict) and isinstance(document.get("name"), str)
    return document if usable and type(document.get("creationTime")) is int else None


def _encoded(name: str, what: str) -> str:
    try:
        return names.encode_name(name)
    except ValueError as exc:
        raise ValidationError(f"A log {what} name must not be empty") from exc


class LocalLogWriter(LogWriter):
    """Appends one stream's events, each with a single ``write``; see ``LogWriter``."""

    def __init__(self, path: Path, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._fd: int | None = _open_for_append(path)
        # A writer that crashed mid-record left a line without its newline; start on a new
        # line so that our first record is not glued to its leftovers.
        self._separator = b"" if records.ends_with_record_end(self._fd) else records.RECORD_END

    def write(self, message: str, timestamp_ms: int | None = None) -> None:
        if timestamp_ms is not None and timestamp_ms < 0:
            raise ValueError(f"A log event timestamp is milliseconds since the epoch, not {timestamp_ms}")
        text = truncate_message(strip_line_ending(message))
        if not text:
            return
        ingestion_time = self._clock()
        record = records.encode_record(
            ingestion_time if timestamp_ms is None else timestamp_ms, ingestion_time, text
        )
        with self._lock:
            fd = self._open_fd()
            _write_all(fd, self._separator + record)
            self._separator = b""

    def flush(self) -> None:
        with self._lock:
            os.fsync(self._open_fd())

    def close(self) -> None:
        with self._lock:
            if self._fd is None:
                return
            fd, self._fd = self._fd, None
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _open_fd(self) -> int:
        if self._fd is None:
            raise ValueError("write to a closed log writer")
        return self._fd


class LocalLogStore(LogStore):
    """Groups and streams as directories and files under ``root``; see the module docstring."""

    def __init__(self, root: Path, *, clock: Clock = now_ms) -> None:
        self.root = root
        self._clock = clock

    # --- paths --------------------------------------------------------------------------------

    def _group_dir(self, group: str) -> Path:
        return self.root / _encoded(group, "group")

    def _streams_dir(self, group: str) -> Path:
        return self._group_dir(group) / STREAMS_DIR

    def _stream_paths(self, group: str, stream: str) -> tuple[Path, Path]:
        base = _encoded(stream, "stream")
        directory = self._streams_dir(group)
        return directory / (base + META_SUFFIX), directory / (base + EVENTS_SUFFIX)

    def _existing_stream(self, group: str, stream: str) -> tuple[Path, Path]:
        """The stream's metadata and events paths, or ResourceNotFound for the group or the stream."""
        meta, events = self._stream_paths(group, stream)
        if not meta.exists():
            raise stream_not_found() if self.group_exists(group) else group_not_found()
        return meta, events

    # --- groups -------------------------------------------------------------------------------

    def create_group(self, group: str) -> bool:
        directory = self._group_dir(group)
        (directory / STREAMS_DIR).mkdir(parents=True, exist_ok=True)
        return _create_once(directory / GROUP_FILE, {"name": group, "creationTime": self._clock()})

    def group_exists(self, group: str) -> bool:
        return (self._group_dir(group) / GROUP_FILE).exists()

    def delete_group(self, group: str) -> None:
        if not self.group_exists(group):
            raise group_not_found()
        trash = self.root / TRASH_DIR
        trash.mkdir(exist_ok=True)
        # One rename makes the whole group disappear at once for every reader; removing the
        # files can then take as long as it takes.
        doomed = trash / uuid.uuid4().hex
        try:
            self._group_dir(group).rename(doomed)
        except FileNotFoundError as exc:
            raise group_not_found() from exc
        # Also whatever an earlier delete left when its process died.
        for leftover in trash.iterdir():
            shutil.rmtree(leftover, ignore_errors=True)

    def list_groups(self, prefix: str = "") -> list[str]:
        if not self.root.is_dir():
            return []
        found = []
        for entry in os.scandir(self.root):
            if entry.name.startswith(".") or not entry.is_dir():
                continue
            name = self._name_of(entry.name, Path(entry.path) / GROUP_FILE)
            if name is not None and name.startswith(prefix):
                found.append(name)
        return sorted(found)

    def group_info(self, group: str) -> LogGroupInfo:
        document = _read_document(self._group_dir(group) / GROUP_FILE)
        if document is None:
            raise group_not_found()
        stored = 0
        for entry in os.scandir(self._streams_dir(group)):
            if entry.name.endswith(EVENTS_SUFFIX) and not entry.name.startswith("."):
                stored += entry.stat().st_size
        return LogGroupInfo(name=group, creation_time=int(document["creationTime"]), stored_bytes=stored)

    # --- streams ------------------------------------------------------------------------------

    def create_stream(self, group: str, stream: str) -> bool:
        if not self.group_exists(group):
            raise group_not_found()
        meta, events = self._stream_paths(group, stream)
        if meta.exists():
            return False
        with _locked(self._streams_dir(group) / LOCK_FILE):
            if meta.exists():
                return False
            # A writer that raced a delete may have recreated the events file; a new stream
            # must not inherit those events.
            events.unlink(missing_ok=True)
            return _create_once(meta, {"name": stream, "creationTime": self._clock()})

    def stream_exists(self, group: str, stream: str) -> bool:
        return self._stream_paths(group, stream)[0].exists()

    def delete_stream(self, group: str, stream: str) -> None:
        meta, events = self._existing_stream(group, stream)
        with _locked(self._streams_dir(group) / LOCK_FILE):
            # Events first: a crash in between leaves an empty stream, never old events that
            # a stream created later under the same name would inherit.
            events.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)

    def list_streams(self, group: str, prefix: str = "") -> list[str]:
        if not self.group_exists(group):
            raise group_not_found()
        found = []
        for entry in os.scandir(self._streams_dir(group)):
            if entry.name.startswith(".") or not entry.name.endswith(META_SUFFIX):
                continue
            name = self._name_of(entry.name[: -len(META_SUFFIX)], Path(entry.path))
            if name is not None and name.startswith(prefix):
                found.append(name)
        return sorted(found)

    def stream_info(self, group: str, stream: str) -> LogStreamInfo:
        meta, events = self._existing_stream(group, stream)
        document = _read_document(meta)
        if document is None:
            raise stream_not_found()
        first = next(self._events(events, records.scan_forward, 0), None)
        last = next(self._events(events, records.scan_backward, None), None)
        try:
            stored = events.stat().st_size
        except FileNotFoundError:
            stored = 0
        return LogStreamInfo(
            group=group,
            name=stream,
            creation_time=int(document["creationTime"]),
            first_event_timestamp=None if first is None else first.timestamp,
            last_event_timestamp=None if last is None else last.timestamp,
            last_ingestion_time=None if last is None else last.ingestion_time,
            stored_bytes=stored,
        )

    @staticmethod
    def _name_of(file_name: str, meta: Path) -> str | None:
        if not names.is_hashed(file_name):
            return names.decode_name(file_name) if meta.exists() else None
        document = _read_document(meta)
        name = None if document is None else document.get("name")
        return name if isinstance(name, str) else None

    # --- events -------------------------------------------------------------------------------

    def open_writer(self, group: str, stream: str) -> LogWriter:
        self.create_group(group)
        self.create_stream(group, stream)
        return LocalLogWriter(self._stream_paths(group, stream)[1], self._clock)

    def put_events(self, group: str, stream: str, events: Sequence[InputLogEvent]) -> None:
        _, path = self._existing_stream(group, stream)
        ingestion_time = self._clock()
        batch = b"".join(records.encode_record(e.timestamp, ingestion_time, e.message) for e in events)
        fd = _open_for_append(path)
        try:
            if not records.ends_with_record_end(fd):
                batch = records.RECORD_END + batch
            _write_all(fd, batch)
        finally:
            os.close(fd)

    def end_position(self, group: str, stream: str) -> int:
        _, path = self._existing_stream(group, stream)
        last = next(self._events(path, records.scan_backward, None), None)
        return 0 if last is None else last.next_position

    def read_forward(self, group: str, stream: str, position: int = 0) -> Iterator[LogEvent]:
        _, path = self._existing_stream(group, stream)
        return self._events(path, records.scan_forward, position)

    def read_backward(self, group: str, stream: str, position: int | None = None) -> Iterator[LogEvent]:
        _, path = self._existing_stream(group, stream)
        return self._events(path, records.scan_backward, position)

    @staticmethod
    def _events(
        path: Path, scan: Callable[[Any, int], Iterator[records.Line]], position: int | None
    ) -> Iterator[LogEvent]:
        try:
            file = open(path, "rb")  # noqa: SIM115 - closed when the generator finishes or is dropped
        except FileNotFoundError:
            return
        with file:
            start = records.file_size(file) if position is None else position
            for offset, next_offset, line in scan(file, start):
                decoded = records.decode_record(line)
                if decoded is not None:
                    timestamp, ingestion_time, message = decoded
                    yield LogEvent(timestamp, message, ingestion_time, offset, next_offset)
