"""Read libsvm text (``label[:weight] [qid:q] index:value ...``, zero-based) into CSR matrices.

Parsing is vectorised over blocks of lines: numpy finds the tokens, the colons and the line
of each token, then parses every number of the block in one call. Only when a block is
malformed does a Python pass over its lines run, to name the offending line.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from opensage.errors import AlgorithmClientError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from scipy import sparse

FORMAT_HINT = "libsvm lines look like 'label[:weight] [qid:id] index:value ...' with zero-based indices"
_BLOCK_BYTES = 4 << 20
_NEWLINE, _COLON, _SPACE, _Q = ord("\n"), ord(":"), ord(" "), ord("q")
# Indices and query ids are parsed as float64, exact for integers up to 2**53.
_LARGEST_EXACT = 2.0**53


@dataclass(frozen=True)
class LibsvmData:
    """One libsvm file: features, labels, and weights / query ids when the file has them."""

    features: sparse.csr_matrix
    labels: np.ndarray
    weights: np.ndarray | None
    qid: np.ndarray | None


@dataclass(frozen=True)
class _Block:
    rows: np.ndarray  # row of each feature entry, relative to the block
    columns: np.ndarray
    values: np.ndarray
    labels: np.ndarray
    weights: np.ndarray | None
    qid: np.ndarray | None


class _Malformed(Exception):
    """The fast path found a block it cannot parse; the slow path says where."""


def read_libsvm(
    path: Path, *, dtype: npt.DTypeLike = "float32", display_name: str | None = None
) -> LibsvmData:
    """Read a libsvm file; its column count is one more than the largest index it holds.

    Explicit ``index:0`` entries are kept as stored zeros (a value, not a missing one). A
    malformed token raises ``AlgorithmClientError`` naming the file and line.
    """
    name = display_name or path.name
    try:
        with path.open("rb") as stream:
            blocks = [_parse_block(block, first_line, name) for block, first_line in _line_blocks(stream)]
    except OSError as exc:
        raise AlgorithmClientError(f"Cannot read {name}: {exc.strerror}") from exc
    return _assemble(blocks, name, dtype)


def _line_blocks(stream: BinaryIO) -> Iterator[tuple[bytes, int]]:
    """Blocks of whole lines and the (1-based) number of each block's first line."""
    line_number = 1
    carry = b""
    while chunk := stream.read(_BLOCK_BYTES):
        data = carry + chunk
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            carry = data
            continue
        yield data[:cut], line_number
        line_number += data.count(b"\n", 0, cut)
        carry = data[cut:]
    if carry:
        yield carry, line_number


def _parse_block(data: bytes, first_line: int, name: str) -> _Block:
    try:
        return _parse_fast(data, first_line, name)
    except _Malformed:
        raise AlgorithmClientError(_locate_problem(data, first_line, name)) from None


def _parse_fast(data: bytes, first_line: int, name: str) -> _Block:
    """Parse a block with vector operations; raise ``_Malformed`` on anything unexpected."""
    import numpy as np

    buf = np.frombuffer(data, dtype=np.uint8)
    # ASCII whitespace, as bytes.split() sees it: space, \t \n \v \f \r (9 to 13).
    space = (buf == _SPACE) | ((buf >= 9) & (buf <= 13))
    word = ~space
    starts = np.flatnonzero(word & np.concatenate(([True], space[:-1])))
    if starts.size == 0:
        empty = np.empty(0, dtype=np.float64)
        return _Block(np.empty(0, np.int64), np.empty(0, np.int64), empty, empty, None, None)
    lines = np.searchsorted(np.flatnonzero(buf == _NEWLINE), starts) + first_line
    is_label = np.ones(starts.size, dtype=bool)
    is_label[1:] = lines[1:] != lines[:-1]
    colons = np.flatnonzero(buf == _COLON)
    colons_per_token = np.bincount(np.searchsorted(starts, colons, side="right") - 1, minlength=starts.size)
    is_qid = ~is_label & (buf[starts] == _Q)
    if (colons_per_token[~is_label] != 1).any() or (colons_per_token[is_label] > 1).any():
        raise _Malformed
    numbers = _numbers(buf, space, colons, starts[is_qid])
    counts = np.where(is_qid, 1, 1 + colons_per_token)
    if numbers.size != counts.sum():
        raise _Malformed
    first_number = np.cumsum(counts) - counts
    rows = np.cumsum(is_label) - 1
    labels = numbers[first_number[is_label]]
    weights = _weights(numbers, first_number, colons_per_token, is_label, lines, name)
    qid = _qid(numbers[first_number[is_qid]], rows[is_qid], int(is_label.sum()), name)
    features = ~is_label & ~is_qid
    columns = numbers[first_number[features]]
    if ((columns < 0) | (columns != np.floor(columns)) | (columns >= _LARGEST_EXACT)).any():
        raise _Malformed
    return _Block(
        rows[features], columns.astype(np.int64), numbers[first_number[features] + 1], labels, weights, qid
    )


def _numbers(buf: np.ndarray, space: np.ndarray, colons: np.ndarray, qid_starts: np.ndarray) -> np.ndarray:
    """Every number of the block, in order: colons and the letters of ``qid:`` separate like spaces.

    The numbers are packed into one Arrow string array and cast to float64 at once (Arrow's
    parser is strict: ``1.5-2`` or ``1_000`` is an error, not a number).
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    separator = space.copy()
    separator[colons] = True
    if qid_starts.size:
        letters = np.minimum((qid_starts[:, None] + np.arange(3)).ravel(), buf.size - 1)
        if (buf[letters].reshape(-1, 3) != np.frombuffer(b"qid", dtype=np.uint8)).any():
            raise _Malformed
        separator[letters] = True
    digit = ~separator
    starts = np.flatnonzero(digit & np.concatenate(([True], separator[:-1])))
    ends = np.flatnonzero(digit & np.concatenate((separator[1:], [True]))) + 1
    offsets = np.zeros(starts.size + 1, dtype=np.int32)
    np.cumsum(ends - starts, out=offsets[1:])
    words = pa.StringArray.from_buffers(
        starts.size, pa.py_buffer(offsets), pa.py_buffer(buf[digit].tobytes())
    )
    try:
        return pc.cast(words, pa.float64()).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _Malformed from None


def _weights(
    numbers: np.ndarray,
    first_number: np.ndarray,
    colons_per_token: np.ndarray,
    is_label: np.ndarray,
    lines: np.ndarray,
    name: str,
) -> np.ndarray | None:
    import numpy as np

    weighted = colons_per_token[is_label] == 1
    if not weighted.any():
        return None
    if not weighted.all():
        line = int(lines[is_label][int(np.argmin(weighted))])
        raise AlgorithmClientError(
            f"Malformed {name} line {line}: expected a weight ('label:weight') on every line or none; "
            f"{FORMAT_HINT}"
        )
    weights: np.ndarray = numbers[first_number[is_label] + 1]
    return weights


def _qid(values: np.ndarray, rows: np.ndarray, n_rows: int, name: str) -> np.ndarray | None:
    import numpy as np

    if values.size == 0:
        return None
    if values.size != n_rows or np.unique(rows).size != n_rows:
        raise AlgorithmClientError(
            f"{name}: every line needs exactly one qid, or none may have one; {FORMAT_HINT}"
        )
    if ((values < 0) | (values != np.floor(values)) | (values >= _LARGEST_EXACT)).any():
        raise _Malformed
    qid = np.empty(n_rows, dtype=np.int64)
    qid[rows] = values.astype(np.int64)
    return qid


def _locate_problem(data: bytes, first_line: int, name: str) -> str:
    """The first malformed token of a block, found line by line (runs only for bad input)."""
    for offset, line in enumerate(data.split(b"\n")):
        tokens = line.decode("utf-8", errors="replace").split()
        problem = _line_problem(tokens)
        if problem:
            return f"{problem[0]} in {name} line {first_line + offset}: {problem[1]!r}; {FORMAT_HINT}"
    return f"Cannot parse {name} as libsvm; {FORMAT_HINT}"


def _line_problem(tokens: list[str]) -> tuple[str, str] | None:
    """(what is wrong, the token) for the first bad token of a line, or None."""
    if not tokens:
        return None
    label, *weight = tokens[0].split(":")
    if not _is_number(label) or len(weight) > 1 or (weight and not _is_number(weight[0])):
        return "Invalid label", tokens[0]
    for token in tokens[1:]:
        key, sep, value = token.partition(":")
        if key == "qid":
            if not (value.isdigit() and sep):
                return "Invalid qid", token
        elif not sep or ":" in value:
            return "Expected an index:value pair", token
        elif not key.isdigit():
            return "Invalid feature index (a non-negative integer)", token
        elif not _is_number(value):
            return "Invalid feature value", token
    return None


def _is_number(text: str) -> bool:
    """Whether Arrow reads ``text`` as a float (as Python's float() does, except for "1_000")."""
    if "_" in text:
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True


def _assemble(blocks: list[_Block], name: str, dtype: npt.DTypeLike) -> LibsvmData:
    import numpy as np
    from scipy import sparse

    blocks = [block for block in blocks if block.labels.size]
    if not blocks:
        return LibsvmData(sparse.csr_matrix((0, 0), dtype=dtype), np.empty(0, np.float32), None, None)
    if (
        len({block.weights is None for block in blocks}) > 1
        or len({block.qid is None for block in blocks}) > 1
    ):
        raise AlgorithmClientError(
            f"{name}: weights and qids must be on every line or on none; {FORMAT_HINT}"
        )
    n_rows = sum(block.labels.size for block in blocks)
    # Entries come row by row, so the row pointer is the running count of entries per row.
    row_counts = np.concatenate([np.bincount(block.rows, minlength=block.labels.size) for block in blocks])
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(row_counts, out=indptr[1:])
    columns = np.concatenate([block.columns for block in blocks])
    n_columns = int(columns.max()) + 1 if columns.size else 0
    values = np.concatenate([block.values for block in blocks]).astype(dtype)
    features = sparse.csr_matrix((values, columns, indptr), shape=(n_rows, n_columns))
    labels = np.concatenate([block.labels for block in blocks]).astype(np.float32)
    weights = [block.weights for block in blocks if block.weights is not None]
    qid = [block.qid for block in blocks if block.qid is not None]
    return LibsvmData(
        features,
        labels,
        np.concatenate(weights).astype(np.float32) if weights else None,
        np.concatenate(qid) if qid else None,
    )
