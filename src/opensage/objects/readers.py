"""Streams over a byte range of an open object file."""

from __future__ import annotations

import io
from typing import BinaryIO

from opensage.errors import InvalidRange


def last_byte(size: int, start: int, end: int | None) -> int:
    """The last byte to return for ``start..end`` (inclusive); InvalidRange when no byte of it exists."""
    if start < 0 or (end is not None and end < start):
        raise InvalidRange(f"The range {start}-{end} is not valid.")
    if size == 0 and start == 0 and end is None:
        return -1
    if start >= size:
        raise InvalidRange(f"The requested range starts at byte {start} but the object has {size} bytes.")
    return size - 1 if end is None else min(end, size - 1)


def range_stream(handle: BinaryIO, start: int, last: int, size: int) -> BinaryIO:
    """``handle`` limited to bytes ``start..last``; the whole file is returned as it is."""
    if start == 0 and last == size - 1:
        return handle
    handle.seek(start)
    return io.BufferedReader(_BoundedReader(handle, last - start + 1))


class _BoundedReader(io.RawIOBase):
    """At most ``remaining`` bytes of an open file, from its current position."""

    def __init__(self, handle: BinaryIO, remaining: int) -> None:
        self._handle = handle
        self._remaining = remaining

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._remaining <= 0:
            return 0
        view = memoryview(buffer)[: self._remaining]
        data = self._handle.read(len(view))
        view[: len(data)] = data
        self._remaining -= len(data)
        return len(data)

    def close(self) -> None:
        self._handle.close()
        super().close()
