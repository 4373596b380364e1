"""The on-disk form of one log event, and reading whole records forward or backward from an offset.

A record is one line, ``<timestamp> <ingestion time> <message as a JSON string>\\n``. JSON
escapes every newline and control character, so a message of any text stays on one line
and ``\\n`` only ever ends a record. That is what makes concurrent readers safe: a record is
appended by a single ``write``, and a reader only trusts bytes up to the last ``\\n`` it
sees, so a record still being written (or cut short by a crash) is never read. Lines that do
not parse (a crash's leftovers, a blank separator) are skipped.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import BinaryIO

RECORD_END = b"\n"
# Big enough that a page of ordinary log lines is a few reads, small enough to waste little
# when a reader only wants the last few events.
CHUNK_BYTES = 64 * 1024

Line = tuple[int, int, bytes]
"""(offset of the record, offset after it, the record without its newline)."""


def encode_record(timestamp: int, ingestion_time: int, message: str) -> bytes:
    # A lone surrogate cannot be UTF-8; it becomes "?" rather than failing the job's logging.
    text = json.dumps(message, ensure_ascii=False).encode("utf-8", "replace")
    return b"%d %d %s\n" % (timestamp, ingestion_time, text)


def decode_record(line: bytes) -> tuple[int, int, str] | None:
    """(timestamp, ingestion time, message), or None for a line that is not a whole record."""
    parts = line.split(b" ", 2)
    if len(parts) != 3 or not parts[0].isdigit() or not parts[1].isdigit():
        return None
    try:
        message = json.loads(parts[2])
    except (ValueError, UnicodeDecodeError):
        return None
    if not isinstance(message, str):
        return None
    return int(parts[0]), int(parts[1]), message


def file_size(file: BinaryIO) -> int:
    return os.fstat(file.fileno()).st_size


def ends_with_record_end(fd: int) -> bool:
    """Whether a file is empty or ends with a whole record (not with a crashed writer's leftovers)."""
    size = os.fstat(fd).st_size
    return size == 0 or os.pread(fd, 1, size - 1) == RECORD_END


def _starts_mid_record(file: BinaryIO, offset: int) -> bool:
    if offset == 0:
        return False
    file.seek(offset - 1)
    return file.read(1) != RECORD_END


def scan_forward(file: BinaryIO, start: int) -> Iterator[Line]:
    """Every whole line from ``start`` to the last newline in the file.

    An offset that is not a record boundary (a token from a stream since recreated) skips
    ahead to the next boundary instead of reading a record's tail as a record.
    """
    offset = max(0, min(start, file_size(file)))
    skip_fragment = _starts_mid_record(file, offset)
    file.seek(offset)
    pending = b""
    while chunk := file.read(CHUNK_BYTES):
        lines = (pending + chunk).split(RECORD_END)
        pending = lines.pop()
        for line in lines:
            next_offset = offset + len(line) + 1
            if skip_fragment:
                skip_fragment = False
            else:
                yield offset, next_offset, line
            offset = next_offset


def scan_backward(file: BinaryIO, end: int) -> Iterator[Line]:
    """Every whole line that ends at or before ``end``, last one first."""
    position = max(0, min(end, file_size(file)))
    # Bytes [position, boundary) not yet yielded; boundary is None until the last newline
    # before ``end`` is found, since anything after it is an unfinished record.
    pending = b""
    boundary: int | None = None
    while position > 0:
        read_from = max(0, position - CHUNK_BYTES)
        file.seek(read_from)
        block = file.read(position - read_from)
        if len(block) != position - read_from:
            return  # the file shrank under us: the stream was deleted
        pending, position = block + pending, read_from
        if boundary is None:
            cut = pending.rfind(RECORD_END)
            if cut < 0:
                continue
            pending, boundary = pending[: cut + 1], position + cut + 1
        lines = pending.split(RECORD_END)
        # lines[-1] is empty (pending ends with a newline); lines[0] may be cut by the read.
        for line in reversed(lines[1:-1]):
            start = boundary - len(line) - 1
            yield start, boundary, line
            boundary = start
        pending = lines[0] + RECORD_END
    if boundary is not None:
        yield 0, boundary, pending[:-1]
