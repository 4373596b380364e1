"""Split an input object into records, as a transform job's SplitType says: None, Line or RecordIO.

A record is what one model request holds at least: the whole object (None), one line
(Line; empty lines are not records, as the model servers skip them too) or one RecordIO
record with its framing (RecordIO), so that records concatenate into a valid request
body. Each carries its number in the object — the line number, or the record's position
from 1 — so that a failure can name it. A record longer than the payload limit is refused
as soon as it is seen, without reading the rest of it.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from opensage.errors import AlgorithmClientError

MIB = 1024 * 1024
# Input is read this much at a time; large enough that Python's per-read cost disappears.
READ_BLOCK = 4 * MIB

_RECORDIO_MAGIC = 0xCED7230A
_LENGTH_MASK = (1 << 29) - 1
# dmlc RecordIO's cflag: 0 a whole record, 1 its first part, 2 a middle part, 3 its last part.
_WHOLE, _FIRST, _MIDDLE, _LAST = 0, 1, 2, 3


class Readable(Protocol):
    """What records are read from: an object store stream, a gzip stream, a BytesIO."""

    def read(self, size: int = -1, /) -> bytes: ...


class SplitType(StrEnum):
    NONE = "None"
    LINE = "Line"
    RECORDIO = "RecordIO"


@dataclass(frozen=True)
class Record:
    """One record: its bytes (a Line record without its line ending) and its number in the object."""

    data: bytes
    number: int


def position(split: SplitType, number: int) -> str:
    """How a failure names a record: ``line 42``, ``record 7``, or nothing for a whole object."""
    if split == SplitType.LINE:
        return f"line {number}"
    if split == SplitType.RECORDIO:
        return f"record {number}"
    return ""


def frame(split: SplitType, data: bytes) -> bytes:
    """A record as it goes into a request body: a Line record ends with a newline."""
    return data + b"\n" if split == SplitType.LINE else data


def too_large(source: str, where: str, size: int, limit: int) -> AlgorithmClientError:
    place = f"{source} {where}".strip()
    return AlgorithmClientError(
        f"{place} is {size} bytes or more, larger than MaxPayloadInMB allows ({limit} bytes); "
        "raise MaxPayloadInMB or split the data into smaller records"
    )


def iter_records(stream: Readable, split: SplitType, limit: int, source: str) -> Iterator[Record]:
    """The records of ``stream`` in order; ``limit`` bytes per record at most (0: no limit)."""
    if split == SplitType.LINE:
        return iter_lines(stream, limit, source)
    if split == SplitType.RECORDIO:
        return iter_recordio(stream, limit, source)
    return iter_whole(stream, limit, source)


def iter_whole(stream: Readable, limit: int, source: str) -> Iterator[Record]:
    wanted = -1 if limit <= 0 else limit + 1
    data = stream.read(wanted)
    if limit > 0 and len(data) > limit:
        raise too_large(source, "", len(data), limit)
    if data:
        yield Record(data, 1)


def iter_lines(stream: Readable, limit: int, source: str) -> Iterator[Record]:
    number = 0
    pending = b""
    while True:
        block = stream.read(READ_BLOCK)
        if not block:
            break
        lines = (pending + block).split(b"\n")
        pending = lines.pop()
        for line in lines:
            number += 1
            yield from _line_record(line, number, limit, source)
        if limit > 0 and len(pending) > limit:
            raise too_large(source, position(SplitType.LINE, number + 1), len(pending), limit)
    if pending:
        yield from _line_record(pending, number + 1, limit, source)


def _line_record(line: bytes, number: int, limit: int, source: str) -> Iterator[Record]:
    if line.endswith(b"\r"):
        line = line[:-1]
    if not line:
        return
    if limit > 0 and len(line) > limit:
        raise too_large(source, position(SplitType.LINE, number), len(line), limit)
    yield Record(line, number)


def iter_recordio(stream: Readable, limit: int, source: str) -> Iterator[Record]:
    """Whole RecordIO records with their framing; a multi-part record (cflag 1, 2.., 3) is one record."""
    number = 0
    offset = 0
    parts: list[bytes] = []
    while True:
        header = stream.read(8)
        if not header:
            break
        starting = not parts
        number += 1 if starting else 0
        if len(header) < 8:
            raise _bad_recordio(source, number, offset, "truncated record header")
        magic, word = struct.unpack("<II", header)
        if magic != _RECORDIO_MAGIC:
            raise _bad_recordio(source, number, offset, f"bad magic word 0x{magic:08X}, not RecordIO data")
        cflag, length = word >> 29, word & _LENGTH_MASK
        size = 8 + length + (-length % 4)
        framed = sum(len(part) for part in parts) + size
        if limit > 0 and framed > limit:
            raise too_large(source, position(SplitType.RECORDIO, number), framed, limit)
        body = stream.read(size - 8)
        if len(body) < length:
            raise _bad_recordio(source, number, offset, f"truncated record: {len(body)} of {length} bytes")
        if cflag not in ((_WHOLE, _FIRST) if starting else (_MIDDLE, _LAST)):
            raise _bad_recordio(source, number, offset, f"unexpected part flag (cflag {cflag})")
        parts.append(header + body)
        offset += size
        if cflag in (_WHOLE, _LAST):
            yield Record(b"".join(parts), number)
            parts = []
    if parts:
        raise _bad_recordio(source, number, offset, "the object ends inside a multi-part record")


def _bad_recordio(source: str, number: int, offset: int, problem: str) -> AlgorithmClientError:
    return AlgorithmClientError(
        f"{source} record {number} (byte {offset}) is not valid RecordIO (SplitType RecordIO): {problem}"
    )
