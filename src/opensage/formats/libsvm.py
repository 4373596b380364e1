"""Read libsvm text (``label[:weight] [qid:q] index:value ...``, zero-based) into CSR matrices.

Parsing is vectorised over blocks of lines: token boundaries come from a numpy pass over the
bytes and numbers from numpy's bytes-to-number casts, so no Python code runs per cell except
on the error path, which finds the offending line for the message.
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
# Small blocks keep the per-token index arrays (several bytes per byte of input) modest.
_BLOCK_BYTES = 4 << 20
_WHITESPACE = (ord(" "), ord("\t"), ord("\n"), ord("\r"), 0x0B, 0x0C)


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
            blocks = [
                _parse_block(block, first_line, name, dtype) for block, first_line in _line_blocks(stream)
            ]
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


def _tokens(data: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Every whitespace-separated token of ``data`` (as an ``S`` array) and its line offset."""
    import numpy as np

    buf = np.frombuffer(data, dtype=np.uint8)
    space = np.isin(buf, _WHITESPACE)
    word = ~space
    starts = np.flatnonzero(word & np.concatenate(([True], space[:-1])))
    ends = np.flatnonzero(word & np.concatenate((space[1:], [True]))) + 1
    if starts.size == 0:
        return np.empty(0, dtype="S1"), np.empty(0, dtype=np.int64)
    width = int((ends - starts).max())
    chars = np.zeros((starts.size, width), dtype=np.uint8)
    for offset in range(width):  # one vector operation per character position, not per token
        inside = starts + offset < ends
        chars[inside, offset] = buf[starts[inside] + offset]
    tokens = chars.view(f"S{width}").ravel()
    lines = np.cumsum(buf == ord("\n"))[starts]
    return tokens, lines


def _parse_block(data: bytes, first_line: int, name: str, dtype: npt.DTypeLike) -> _Block:
    import numpy as np

    tokens, lines = _tokens(data)
    lines = lines + first_line
    is_label = np.ones(tokens.size, dtype=bool)
    is_label[1:] = lines[1:] != lines[:-1]
    rows = np.cumsum(is_label) - 1
    label_text, label_sep, weight_text = np.strings.partition(tokens[is_label], b":")
    labels = _cast(label_text, np.float64, tokens[is_label], lines[is_label], name, "label")
    weights = None
    if label_sep.any():
        _require_all(
            label_sep != b"", lines[is_label], name, "a weight ('label:weight') on every line or none"
        )
        weights = _cast(weight_text, np.float64, tokens[is_label], lines[is_label], name, "weight")
    entries, entry_lines, entry_rows = tokens[~is_label], lines[~is_label], rows[~is_label]
    key, sep, value = np.strings.partition(entries, b":")
    _require_all(sep != b"", entry_lines, name, "'index:value' pairs after the label")
    is_qid = key == b"qid"
    qid = _block_qid(
        value[is_qid], entries[is_qid], entry_lines[is_qid], entry_rows[is_qid], labels.size, name
    )
    keep = ~is_qid
    columns = _cast(key[keep], np.int64, entries[keep], entry_lines[keep], name, "feature index")
    if columns.size and columns.min() < 0:
        bad = int(np.argmax(columns < 0))
        raise AlgorithmClientError(
            f"Negative feature index in {name} line {int(entry_lines[keep][bad])}; {FORMAT_HINT}"
        )
    values = _cast(value[keep], dtype, entries[keep], entry_lines[keep], name, "feature value")
    return _Block(entry_rows[keep], columns, values, labels, weights, qid)


def _block_qid(
    text: np.ndarray, tokens: np.ndarray, lines: np.ndarray, rows: np.ndarray, n_rows: int, name: str
) -> np.ndarray | None:
    import numpy as np

    if text.size == 0:
        return None
    qid = _cast(text, np.int64, tokens, lines, name, "qid")
    out = np.full(n_rows, -1, dtype=np.int64)
    out[rows] = qid
    if (out < 0).any() or np.unique(rows).size != rows.size:
        raise AlgorithmClientError(
            f"{name}: every line needs exactly one non-negative qid or none; {FORMAT_HINT}"
        )
    return out


def _cast(
    text: np.ndarray, dtype: npt.DTypeLike, tokens: np.ndarray, lines: np.ndarray, name: str, what: str
) -> np.ndarray:
    """``text.astype(dtype)``; on failure, name the first token that does not parse."""
    import numpy as np

    try:
        return text.astype(dtype)
    except (ValueError, OverflowError) as exc:
        for index, item in enumerate(text):
            try:
                np.array([item]).astype(dtype)
            except (ValueError, OverflowError):
                token = tokens[index].decode("utf-8", errors="replace")
                raise AlgorithmClientError(
                    f"Invalid {what} in {name} line {int(lines[index])}: {token!r}; {FORMAT_HINT}"
                ) from exc
        raise AlgorithmClientError(f"Invalid {what} in {name}; {FORMAT_HINT}") from exc


def _require_all(ok: np.ndarray, lines: np.ndarray, name: str, expected: str) -> None:
    import numpy as np

    if not ok.all():
        line = int(lines[int(np.argmin(ok))])
        raise AlgorithmClientError(f"Malformed {name} line {line}: expected {expected}; {FORMAT_HINT}")


def _assemble(blocks: list[_Block], name: str, dtype: npt.DTypeLike) -> LibsvmData:
    import numpy as np
    from scipy import sparse

    blocks = [block for block in blocks if block.labels.size]
    if not blocks:
        return LibsvmData(sparse.csr_matrix((0, 0), dtype=dtype), np.empty(0, np.float32), None, None)
    with_weights = {block.weights is not None for block in blocks}
    with_qid = {block.qid is not None for block in blocks}
    if len(with_weights) > 1 or len(with_qid) > 1:
        raise AlgorithmClientError(
            f"{name}: weights and qids must be on every line or on none; {FORMAT_HINT}"
        )
    offsets = np.cumsum([0] + [block.labels.size for block in blocks])
    rows = np.concatenate([block.rows + offset for block, offset in zip(blocks, offsets, strict=False)])
    columns = np.concatenate([block.columns for block in blocks])
    n_columns = int(columns.max()) + 1 if columns.size else 0
    features = sparse.csr_matrix(
        (np.concatenate([block.values for block in blocks]), (rows, columns)),
        shape=(int(offsets[-1]), n_columns),
        dtype=dtype,
    )
    labels = np.concatenate([block.labels for block in blocks]).astype(np.float32)
    weights = [block.weights for block in blocks if block.weights is not None]
    qid = [block.qid for block in blocks if block.qid is not None]
    return LibsvmData(
        features,
        labels,
        np.concatenate(weights).astype(np.float32) if weights else None,
        np.concatenate(qid) if qid else None,
    )
