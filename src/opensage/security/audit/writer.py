"""The audit trail's writer: JSON Lines segments under ``<home>/audit/``, appended by one background thread.

Why files and not a table: the trail must be append-only and must not slow the request
path. Segments opened ``O_APPEND`` and never opened any other way are append-only by
construction whichever metadata database the home uses (SQLite or PostgreSQL), need no
migration, are written in large batches with one ``fsync`` each, and stay readable with
``grep`` and ``jq`` when the server is down. One segment per UTC hour
(``2026-11-22T10.jsonl``) lets a query skip the hours outside its window unread.

Requests hand events to a bounded queue and return at once; the writer thread drains the
queue in batches, appends them and fsyncs. If the queue is full (the disk stalls), a
request waits up to ``block_seconds`` for room; an event that still finds none is dropped,
counted, logged, and the gap is itself written to the trail, so a loss is never silent.
``close`` writes everything queued before it returns.

Crash: a record is durable once its batch is fsynced. A server killed with ``kill -9`` loses
the events still queued or in the batch being written (normally the last few milliseconds
of calls); a line torn by the crash is skipped by readers, and the next writer starts a
fresh line after it.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opensage.security.audit.events import FORMAT_VERSION, AuditEvent

logger = logging.getLogger(__name__)

SEGMENT_SUFFIX = ".jsonl"


def segment_name(moment: datetime) -> str:
    """The segment an event of ``moment`` belongs to: its UTC hour."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H") + SEGMENT_SUFFIX


class _Flush:
    """A marker in the queue: set once every event queued before it is on disk."""

    def __init__(self) -> None:
        self.done = threading.Event()


_STOP = object()
# How long the writer waits for more events before writing (and fsyncing) what it has.
_LINGER_SECONDS = 0.02


class AuditTrailWriter:
    """Appends audit events to the segments of one directory, off the caller's thread."""

    def __init__(
        self, directory: Path, queue_size: int = 10_000, batch_size: int = 1_000, block_seconds: float = 0.2
    ) -> None:
        self.directory = directory
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._batch_size = batch_size
        self._block_seconds = block_seconds
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        #: Events that could not be recorded (a full queue, a failed write, or after close).
        self.dropped = 0
        self._dropped_written = 0
        self._open: tuple[str, int] | None = None

    def record(self, event: AuditEvent) -> None:
        """Queue ``event`` for writing; thread-safe, and normally returns without waiting."""
        if self._closed:
            self._drop(1, "the audit trail is closed")
            return
        self._ensure_started()
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            try:
                self._queue.put(event, timeout=self._block_seconds)
            except queue.Full:
                self._drop(1, "the audit queue stayed full")

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every event recorded before this call is on disk; False on time-out."""
        if self._thread is None or self._closed:
            return True
        marker = _Flush()
        self._queue.put(marker)
        return marker.done.wait(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued, fsync, and stop the writer thread."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout)
            if thread.is_alive():
                logger.error(
                    "the audit writer did not finish within %.0f s; queued events may be lost", timeout
                )

    def _ensure_started(self) -> None:
        if self._thread is not None:
            return
        with self._lock:
            if self._thread is None and not self._closed:
                self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
                self._thread = threading.Thread(target=self._run, name="audit-writer", daemon=True)
                self._thread.start()

    def _drop(self, count: int, why: str) -> None:
        with self._lock:
            self.dropped += count
            total = self.dropped
        # Log the first loss and then every thousandth, not one line per lost event.
        if total == count or total // 1000 != (total - count) // 1000:
            logger.error("audit trail: %d event(s) dropped so far (%s)", total, why)

    def _run(self) -> None:
        try:
            stopping = False
            while not stopping:
                batch = [self._queue.get()]
                # Linger a moment for more: one fsync per busy burst rather than per call (on a
                # quiet server a lone event still waits only _LINGER_SECONDS).
                deadline = time.monotonic() + _LINGER_SECONDS
                while (
                    len(batch) < self._batch_size
                    and not isinstance(batch[-1], _Flush)
                    and batch[-1] is not _STOP
                ):
                    try:
                        batch.append(self._queue.get(timeout=max(deadline - time.monotonic(), 0)))
                    except queue.Empty:
                        break
                events = [item for item in batch if isinstance(item, AuditEvent)]
                stopping = any(item is _STOP for item in batch)
                self._write_batch(events)
                for item in batch:
                    if isinstance(item, _Flush):
                        item.done.set()
        finally:
            self._close_segment()

    def _write_batch(self, events: list[AuditEvent]) -> None:
        lines: dict[str, list[str]] = {}
        for event in events:
            lines.setdefault(segment_name(event.event_time), []).append(
                json.dumps(event.to_json(), separators=(",", ":"))
            )
        gap = self.dropped - self._dropped_written
        if gap:
            self._dropped_written += gap
            now = datetime.now(UTC)
            marker = {
                "v": FORMAT_VERSION,
                "eventTime": now.isoformat().replace("+00:00", "Z"),
                "dropped": gap,
            }
            lines.setdefault(segment_name(now), []).append(json.dumps(marker, separators=(",", ":")))
        for name, texts in sorted(lines.items()):
            try:
                self._append(name, ("\n".join(texts) + "\n").encode("utf-8"))
            except OSError:
                logger.exception("audit trail: could not write to %s", self.directory / name)
                self._drop(len(texts), "the write failed")
                self._close_segment()

    def _append(self, name: str, data: bytes) -> None:
        fd = self._segment(name)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)

    def _segment(self, name: str) -> int:
        if self._open is not None and self._open[0] == name:
            return self._open[1]
        self._close_segment()
        path = self.directory / name
        created = not path.exists()
        # Read access only to look at the last byte below; every write appends.
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
        if created:
            # The new file's name must survive a crash too, not only its contents.
            directory_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(directory_fd)
            finally:
                os.close(directory_fd)
        elif os.fstat(fd).st_size and os.pread(fd, 1, os.fstat(fd).st_size - 1) != b"\n":
            # A crash tore the last line: start on a new line so the next event stays whole.
            os.write(fd, b"\n")
        self._open = (name, fd)
        return fd

    def _close_segment(self) -> None:
        if self._open is not None:
            os.close(self._open[1])
            self._open = None
