"""Reading several streams as one, interleaved by timestamp, and resumable from per-stream positions."""

from __future__ import annotations

import heapq
from collections import deque
from collections.abc import Callable, Iterator

from opensage.errors import LogResourceNotFoundError
from opensage.logstore.base import LogEvent

# A cursor reads its stream a batch at a time and closes the file in between, so a search
# over thousands of streams never holds thousands of files open.
BATCH_EVENTS = 64
BATCH_CHARACTERS = 64 * 1024

Reader = Callable[[int], Iterator[LogEvent]]
"""Opens a stream's events from a position: forward from the event there, or backward from it."""


class StreamCursor:
    """One stream's events that pass ``keep``, and the position to resume the stream from."""

    def __init__(
        self,
        stream: str,
        read: Reader,
        keep: Callable[[LogEvent], bool],
        *,
        forward: bool,
        position: int,
    ) -> None:
        self.stream = stream
        self.head: LogEvent | None = None
        self._read = read
        self._keep = keep
        self._forward = forward
        self._scanned = position
        self._buffer: deque[LogEvent] = deque()
        self._exhausted = False
        self.advance()

    @property
    def position(self) -> int:
        """Where reading must resume: at the head, which has not been handed out, or after all."""
        if self.head is None:
            return self._scanned
        return self.head.position if self._forward else self.head.next_position

    def advance(self) -> None:
        """Hand out the head: move it to the next kept event, or None when the stream has no more."""
        if not self._buffer and not self._exhausted:
            self._refill()
        self.head = self._buffer.popleft() if self._buffer else None

    def _refill(self) -> None:
        try:
            events = self._read(self._scanned)
        except LogResourceNotFoundError:
            self._exhausted = True  # deleted since the search began
            return
        characters = 0
        try:
            for event in events:
                self._scanned = event.next_position if self._forward else event.position
                if self._keep(event):
                    self._buffer.append(event)
                    characters += len(event.message)
                    if len(self._buffer) >= BATCH_EVENTS or characters >= BATCH_CHARACTERS:
                        return
            self._exhausted = True
        finally:
            close = getattr(events, "close", None)
            if close is not None:
                close()


class StreamMerge:
    """The heads of several cursors in timestamp order: oldest first forward, newest first backward.

    ``peek`` shows the next event without taking it and ``pop`` takes it, so a caller that
    stops (a full page) leaves every cursor's ``position`` at the first event it did not take.
    """

    def __init__(self, cursors: list[StreamCursor], *, forward: bool) -> None:
        self.cursors = cursors
        self._forward = forward
        self._heap = [self._key(cursor.head, index) for index, cursor in enumerate(cursors) if cursor.head]
        heapq.heapify(self._heap)

    def _key(self, head: LogEvent, index: int) -> tuple[int, int, int]:
        """(time, tie-break, cursor index): the heap's entry for a cursor's head."""
        # Ties go to the cursor listed first (last, backward), so that the order is the same on
        # every read and newest-first is exactly oldest-first reversed.
        if self._forward:
            return head.timestamp, index, index
        return -head.timestamp, -index, index

    def peek(self) -> tuple[str, LogEvent] | None:
        if not self._heap:
            return None
        cursor = self.cursors[self._heap[0][2]]
        return None if cursor.head is None else (cursor.stream, cursor.head)

    def pop(self) -> None:
        if not self._heap:
            return
        index = self._heap[0][2]
        cursor = self.cursors[index]
        cursor.advance()
        if cursor.head is None:
            heapq.heappop(self._heap)
        else:
            heapq.heapreplace(self._heap, self._key(cursor.head, index))

    @property
    def exhausted(self) -> bool:
        return not self._heap

    def positions(self) -> dict[str, int]:
        return {cursor.stream: cursor.position for cursor in self.cursors}
