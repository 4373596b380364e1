"""Reading several streams as one, interleaved by timestamp, and resumable from per-stream positions."""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterator

from opensage.logstore.base import LogEvent


class StreamCursor:
    """One stream's events that pass ``keep``, and the position to resume the stream from."""

    def __init__(
        self,
        stream: str,
        events: Iterator[LogEvent],
        keep: Callable[[LogEvent], bool],
        *,
        forward: bool,
        position: int,
    ) -> None:
        self.stream = stream
        self.position = position
        self.head: LogEvent | None = None
        self._events = events
        self._keep = keep
        self._forward = forward
        self.advance()

    def advance(self) -> None:
        """Move ``head`` to the next kept event; None when the stream has no more."""
        if self.head is not None:
            # The head was handed out: resuming starts after it.
            self.position = self.head.next_position if self._forward else self.head.position
        self.head = None
        for event in self._events:
            if self._keep(event):
                self.head = event
                # The head has not been handed out yet, so resuming must read it again.
                self.position = event.position if self._forward else event.next_position
                return
            self.position = event.next_position if self._forward else event.position


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
