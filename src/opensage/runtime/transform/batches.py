"""Group records into request bodies, as a transform job's BatchStrategy and MaxPayloadInMB say.

SingleRecord sends each record alone; MultiRecord sends as many consecutive records as fit
in MaxPayloadInMB. Line-split input that needs no per-record work (no InputFilter, no
join) takes a fast path: a batch is a slice of the object cut at the last newline that
fits, found with ``bytes.rfind`` instead of splitting every line in Python — this is what
keeps a transform job close to a plain predict loop on large files.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from opensage.runtime.transform.records import (
    READ_BLOCK,
    Readable,
    Record,
    SplitType,
    frame,
    iter_lines,
    position,
    too_large,
)


@dataclass(frozen=True)
class Batch:
    """One request body and the records it holds.

    ``records`` are the records as read (what a join joins with) and ``pieces`` what each
    became in the body (after InputFilter); both are None for a fast-path slice, whose
    records are its lines ``first`` .. ``first + count - 1``.
    """

    payload: bytes
    first: int
    count: int
    records: tuple[Record, ...] | None = None
    pieces: tuple[bytes, ...] | None = None

    def numbered_pieces(self) -> list[tuple[int, bytes]]:
        """Each record's number and framed bytes in the body, to send records on their own."""
        if self.records is not None and self.pieces is not None:
            return [(record.number, piece) for record, piece in zip(self.records, self.pieces, strict=True)]
        lines = self.payload.split(b"\n")
        if lines and not lines[-1]:
            lines.pop()
        return [(self.first + index, line + b"\n") for index, line in enumerate(lines)]

    def span(self, split: SplitType) -> str:
        """The records of the batch as a failure names them: ``line 7`` or ``lines 1-500``."""
        if split == SplitType.NONE:
            return ""
        last = self.records[-1].number if self.records else self.first + self.count - 1
        if last == self.first:
            return position(split, self.first)
        noun = "lines" if split == SplitType.LINE else "records"
        return f"{noun} {self.first}-{last}"


Encoder = Callable[[Record], bytes]


def batch_records(
    records: Iterable[Record],
    split: SplitType,
    multi_record: bool,
    limit: int,
    source: str,
    encode: Encoder | None = None,
) -> Iterator[Batch]:
    """Batches of whole records; ``encode`` turns a record into what is sent (InputFilter)."""
    held: list[Record] = []
    pieces: list[bytes] = []
    size = 0
    for record in records:
        piece = frame(split, encode(record) if encode else record.data)
        if limit > 0 and len(piece) > limit:
            raise too_large(source, position(split, record.number), len(piece), limit)
        if held and (not multi_record or (limit > 0 and size + len(piece) > limit)):
            yield _batch(held, pieces)
            held, pieces, size = [], [], 0
        held.append(record)
        pieces.append(piece)
        size += len(piece)
    if held:
        yield _batch(held, pieces)


def _batch(held: list[Record], pieces: list[bytes]) -> Batch:
    return Batch(b"".join(pieces), held[0].number, len(held), tuple(held), tuple(pieces))


def line_slices(stream: Readable, limit: int, source: str) -> Iterator[Batch]:
    """MultiRecord batches of Line-split input, cut at newlines, each at most ``limit`` bytes (0: no limit)."""
    buffer = b""
    next_line = 1
    at_end = False
    while True:
        while not at_end and (limit <= 0 or len(buffer) <= limit):
            block = stream.read(READ_BLOCK)
            at_end = not block
            buffer += block
        if not buffer:
            return
        if at_end and (limit <= 0 or len(buffer) <= limit):
            chunk, buffer = buffer, b""
        else:
            cut = buffer.rfind(b"\n", 0, limit)
            if cut < 0:
                raise too_large(source, position(SplitType.LINE, next_line), limit + 1, limit)
            chunk, buffer = buffer[: cut + 1], buffer[cut + 1 :]
        batch, lines = _slice_batch(chunk, next_line, source)
        next_line += lines
        if batch is not None:
            yield batch


def _slice_batch(chunk: bytes, first: int, source: str) -> tuple[Batch | None, int]:
    """The batch a slice makes and how many lines it spans; empty lines force the record path."""
    lines = chunk.count(b"\n") + (0 if chunk.endswith(b"\n") else 1)
    if not _has_empty_line(chunk):
        return Batch(chunk, first, lines), lines
    found = iter_lines(io.BytesIO(chunk), 0, source)
    records = tuple(Record(record.data, first - 1 + record.number) for record in found)
    if not records:
        return None, lines
    pieces = tuple(frame(SplitType.LINE, r.data) for r in records)
    return Batch(b"".join(pieces), records[0].number, len(records), records, pieces), lines


def _has_empty_line(chunk: bytes) -> bool:
    # Looking for a lone byte is far faster than for a pair: most files have no \r to look behind.
    return chunk.startswith((b"\n", b"\r\n")) or b"\n\n" in chunk or (b"\r" in chunk and b"\n\r\n" in chunk)
