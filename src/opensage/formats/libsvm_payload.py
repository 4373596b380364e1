"""Parse a ``text/libsvm`` request body into a float32 CSR matrix (zero-based indices).

An inference line is ``[label] index:value ...``: a leading token without a colon is a label
and is ignored, as are ``qid:`` tokens, so the lines of a training file can be sent as they
are. Small bodies are parsed in Python; large ones with vector operations (numpy finds the
tokens, pyarrow converts every number at once), falling back to the Python pass, which names
the offending line, whenever the vector pass finds anything it does not expect. Both parse
numbers as doubles rounded once to float32. Imported by model servers only (numpy at import).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from opensage.formats.errors import PayloadError, excerpt

VECTOR_MIN_BYTES = 32 << 10
# Widths must fit the int32 indices scipy and XGBoost use for CSR matrices.
MAX_INDEX = 2**31 - 2
LIBSVM_HINT = "libsvm lines look like '[label] index:value ...' with zero-based integer indices"
_SPACE, _NEWLINE, _RETURN, _COLON, _ZERO, _NINE = 32, 10, 13, 58, 48, 57


class _Malformed(Exception):
    """The vector pass met something unexpected; the Python pass reads the body or says why."""


def parse_libsvm_payload(body: bytes) -> sparse.csr_matrix:
    """One row per non-blank line, ``1 + the largest index`` columns; explicit zeros are kept.

    A repeated index within a line adds up. Raises ``PayloadError`` naming the line and the
    offending token.
    """
    if len(body) >= VECTOR_MIN_BYTES:
        try:
            return _parse_vectorised(body)
        except _Malformed:
            pass
    return _parse_lines(body)


def _csr(row_sizes: Any, columns: Any, values: Any) -> sparse.csr_matrix:
    """The matrix of entries given row by row: ``row_sizes[i]`` entries for row ``i``."""
    indices = np.asarray(columns, dtype=np.int32)
    indptr = np.zeros(len(row_sizes) + 1, dtype=np.int32)
    np.cumsum(row_sizes, out=indptr[1:])
    width = int(indices.max()) + 1 if indices.size else 0
    with np.errstate(over="ignore"):  # beyond float32's range is infinity, as in training
        data = np.asarray(values, dtype=np.float64).astype(np.float32)
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(row_sizes), width))
    matrix.sum_duplicates()  # a repeated index adds up; sorts the indices of each row
    return matrix


# --- the Python pass ---------------------------------------------------------------------------


def _parse_lines(body: bytes) -> sparse.csr_matrix:
    row_sizes: list[int] = []
    columns: list[int] = []
    values: list[float] = []
    text = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n") if b"\r" in body else body
    for number, line in enumerate(text.split(b"\n"), start=1):
        tokens = line.split()
        if not tokens:
            continue
        if b":" not in tokens[0]:
            _number(tokens[0], number, "Invalid label")
            tokens = tokens[1:]
        before = len(columns)
        for token in tokens:
            key, sep, value = token.partition(b":")
            if key == b"qid" and value.isdigit():
                continue
            # The length test first: int() refuses strings of thousands of digits with a ValueError.
            if not sep or not key.isdigit() or len(key) > 10 or int(key) > MAX_INDEX:
                raise _error("Expected an index:value pair with a zero-based index", token, number)
            columns.append(int(key))
            values.append(_number(value, number, "Invalid feature value", token))
        row_sizes.append(len(columns) - before)
    return _csr(row_sizes, columns, values)


def _number(text: bytes, line_number: int, problem: str, token: bytes | None = None) -> float:
    try:
        if not text.isascii() or b"_" in text:  # float() takes "1_000"; training does not
            raise ValueError
        return float(text)
    except ValueError:
        raise _error(problem, token or text, line_number) from None


def _error(problem: str, token: bytes, line_number: int) -> PayloadError:
    shown = excerpt(token.decode("utf-8", errors="replace"))
    return PayloadError(f"{problem} in libsvm line {line_number}: {shown}; {LIBSVM_HINT}")


# --- the vector pass ---------------------------------------------------------------------------


def _parse_vectorised(body: bytes) -> sparse.csr_matrix:
    buf = np.frombuffer(body, dtype=np.uint8)
    space = (buf == _SPACE) | ((buf >= 9) & (buf <= 13))
    starts = np.flatnonzero(~space & np.concatenate(([True], space[:-1])))
    ends = np.flatnonzero(~space & np.concatenate((space[1:], [True]))) + 1
    if starts.size == 0:
        return _csr([], [], [])
    breaks = np.flatnonzero((buf == _NEWLINE) | (buf == _RETURN))
    lines = np.searchsorted(breaks, starts)
    first = np.concatenate(([True], lines[1:] != lines[:-1]))
    colon_positions = np.flatnonzero(buf == _COLON)
    owner = np.searchsorted(starts, colon_positions, side="right") - 1
    colons = np.bincount(owner, minlength=starts.size)
    colon_at = np.full(starts.size, -1, dtype=np.int64)
    colon_at[owner] = colon_positions
    label = first & (colons == 0)
    if (colons[~label] != 1).any():
        raise _Malformed
    qid = ~label & _is_qid(buf, starts, colon_at)
    feature = ~label & ~qid
    _check_digits(
        buf,
        np.concatenate((colon_at[qid] + 1, starts[feature])),
        np.concatenate((ends[qid], colon_at[feature])),
    )
    # Labels (checked, then ignored), indices and values, parsed in one go in buffer order.
    span_starts = np.concatenate((starts[label], starts[feature], colon_at[feature] + 1))
    span_ends = np.concatenate((ends[label], colon_at[feature], ends[feature]))
    order = np.argsort(span_starts, kind="stable")
    numbers = np.empty(order.size, dtype=np.float64)
    numbers[order] = _parse_numbers(buf, span_starts[order], span_ends[order])
    n_labels, n_features = int(label.sum()), int(feature.sum())
    columns = numbers[n_labels : n_labels + n_features]
    if columns.size and columns.max() > MAX_INDEX:
        raise _Malformed
    row_of_feature = (np.cumsum(first) - 1)[feature]
    row_sizes = np.bincount(row_of_feature, minlength=int(first.sum()))
    return _csr(row_sizes, columns, numbers[n_labels + n_features :])


def _is_qid(buf: np.ndarray, starts: np.ndarray, colon_at: np.ndarray) -> np.ndarray:
    candidates = colon_at - starts == 3
    positions = starts[candidates]
    matched = (
        (buf[positions] == ord("q")) & (buf[positions + 1] == ord("i")) & (buf[positions + 2] == ord("d"))
    )
    result = np.zeros(starts.size, dtype=bool)
    result[np.flatnonzero(candidates)[matched]] = True
    return result


def _check_digits(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """Raise ``_Malformed`` unless every span ``[start, end)`` is a non-empty run of ASCII digits."""
    if starts.size == 0:
        return
    not_digit = np.concatenate(([0], np.cumsum((buf < _ZERO) | (buf > _NINE))))
    if ((ends <= starts) | (not_digit[ends] != not_digit[starts])).any():
        raise _Malformed


def _parse_numbers(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """The spans ``[start, end)`` of ``buf`` parsed as doubles at once (pyarrow's strict parser)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if starts.size == 0:
        return np.empty(0, dtype=np.float64)
    lengths = ends - starts
    if (lengths <= 0).any():
        raise _Malformed
    offsets = np.zeros(starts.size + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    # The bytes of every span, concatenated: a mask of the positions inside some span.
    depth = np.bincount(starts, minlength=buf.size + 1) - np.bincount(ends, minlength=buf.size + 1)
    chars = buf[np.cumsum(depth[:-1]) > 0].tobytes()
    words = pa.LargeStringArray.from_buffers(starts.size, pa.py_buffer(offsets), pa.py_buffer(chars))
    try:
        return pc.cast(words, pa.float64()).to_numpy(zero_copy_only=False)  # type: ignore[no-any-return]
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        raise _Malformed from None
