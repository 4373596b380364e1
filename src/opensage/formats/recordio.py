"""RecordIO framing and SageMaker's RecordIO-protobuf records: stream them, read them into arrays, write them.

A record on disk is ``magic (0xCED7230A) | lrec | payload | zero padding to 4 bytes``, with
``lrec = cflag << 29 | length`` (little-endian words). dmlc-core writers split a payload that
holds the magic word at a 4-byte-aligned offset into parts (cflag 1 first, 2 middle, 3 last)
and drop those magic words; the reader puts them back. Each payload of SageMaker's format is
one ``aialgs.data.Record`` with the features in ``features["values"]`` and the label in
``label["values"]``. The writers produce what the SageMaker Python SDK v2 writes
(``write_numpy_to_dense_tensor`` / ``write_spmatrix_to_sparse_tensor``): one Record per row.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from opensage.errors import AlgorithmClientError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from scipy import sparse

    from opensage.formats.record_pb2 import Record

MAGIC = 0xCED7230A
_MAGIC_BYTES = struct.pack("<I", MAGIC)
_LENGTH_MASK = (1 << 29) - 1
_WHOLE, _FIRST, _MIDDLE, _LAST = 0, 1, 2, 3
# Corrupt length words can claim up to 512 MiB: read in pieces so they cost no big allocation.
_READ_PIECE = 1 << 24


@dataclass(frozen=True)
class RecordSet:
    """Rows read from RecordIO-protobuf: features (dense or CSR) and labels when records have them.

    ``labels`` is 1-D when every record holds one label value, 2-D (rows, k) when each holds k.
    """

    features: np.ndarray | sparse.csr_matrix
    labels: np.ndarray | None


# --- framing ----------------------------------------------------------------------------------


def read_recordio(stream: BinaryIO, *, source: str = "<stream>") -> Iterator[bytes]:
    """Yield each record's payload, one at a time, joining multi-part (cflag 1/2/3) records.

    Raises ``AlgorithmClientError`` naming ``source``, the record index and byte offset on a
    bad magic word, a truncated record or a broken sequence of parts.
    """
    offset = 0
    index = 0
    parts: list[bytes] | None = None
    while (part := _read_part(stream, source, index, offset)) is not None:
        cflag, payload, size = part
        if cflag in (_WHOLE, _FIRST) and parts is not None:
            raise _framing_error(source, index, offset, "a record starts before the previous one's last part")
        if cflag in (_MIDDLE, _LAST) and parts is None:
            raise _framing_error(
                source, index, offset, f"continuation part (cflag {cflag}) without a first part"
            )
        if cflag == _WHOLE:
            yield payload
            index += 1
        elif cflag == _FIRST:
            parts = [payload]
        elif parts is not None:
            parts.append(payload)
            if cflag == _LAST:
                yield _MAGIC_BYTES.join(parts)
                parts = None
                index += 1
        offset += size
    if parts is not None:
        raise _framing_error(source, index, offset, "the stream ends inside a multi-part record")


def _read_part(stream: BinaryIO, source: str, index: int, offset: int) -> tuple[int, bytes, int] | None:
    """The next part's cflag, payload and size on disk; None at the end of the stream."""
    header = _read_exact(stream, 8)
    if not header:
        return None
    if len(header) < 8:
        raise _framing_error(source, index, offset, "truncated record header")
    magic, lrec = struct.unpack("<II", header)
    if magic != MAGIC:
        raise _framing_error(source, index, offset, f"bad magic word 0x{magic:08X}, not RecordIO data")
    cflag, length = lrec >> 29, lrec & _LENGTH_MASK
    if cflag > _LAST:
        raise _framing_error(source, index, offset, f"invalid cflag {cflag}")
    payload = _read_exact(stream, length)
    if len(payload) < length:
        raise _framing_error(source, index, offset, f"truncated record: {len(payload)} of {length} bytes")
    padding = -length % 4
    _read_exact(stream, padding)  # a missing pad after the last record is harmless
    return cflag, payload, 8 + length + padding


def _read_exact(stream: BinaryIO, size: int) -> bytes:
    """Up to ``size`` bytes: fewer only at the end of the stream."""
    pieces = []
    remaining = size
    while remaining > 0:
        piece = stream.read(min(remaining, _READ_PIECE))
        if not piece:
            break
        pieces.append(piece)
        remaining -= len(piece)
    return b"".join(pieces)


def _framing_error(source: str, index: int, offset: int, problem: str) -> AlgorithmClientError:
    return AlgorithmClientError(f"Invalid RecordIO in {source} at record {index} (byte {offset}): {problem}")


def write_recordio(stream: BinaryIO, payload: bytes, *, split_on_magic: bool = False) -> None:
    """Write one record. The SDK never splits (cflag 0); ``split_on_magic`` writes as dmlc-core does."""
    parts = _split_on_magic(payload) if split_on_magic else [payload]
    if len(parts) == 1:
        _write_part(stream, _WHOLE, payload)
        return
    for number, part in enumerate(parts):
        cflag = _FIRST if number == 0 else _LAST if number == len(parts) - 1 else _MIDDLE
        _write_part(stream, cflag, part)


def _split_on_magic(payload: bytes) -> list[bytes]:
    parts = []
    start = 0
    for position in range(0, len(payload) - 3, 4):
        if payload[position : position + 4] == _MAGIC_BYTES:
            parts.append(payload[start:position])
            start = position + 4
    parts.append(payload[start:])
    return parts


def _write_part(stream: BinaryIO, cflag: int, payload: bytes) -> None:
    if len(payload) > _LENGTH_MASK:
        raise ValueError(f"a RecordIO record holds at most {_LENGTH_MASK} bytes, got {len(payload)}")
    stream.write(struct.pack("<II", MAGIC, cflag << 29 | len(payload)))
    stream.write(payload)
    stream.write(b"\x00" * (-len(payload) % 4))


# --- records ----------------------------------------------------------------------------------


def read_records(stream: BinaryIO, *, source: str = "<stream>") -> Iterator[Record]:
    """Yield each ``aialgs.data.Record`` of a RecordIO-protobuf stream."""
    from google.protobuf.message import DecodeError

    from opensage.formats.record_pb2 import Record

    for index, payload in enumerate(read_recordio(stream, source=source)):
        record = Record()
        try:
            record.ParseFromString(payload)
        except DecodeError as exc:
            raise AlgorithmClientError(
                f"Invalid RecordIO-protobuf in {source} at record {index}: not an aialgs.data.Record ({exc})"
            ) from exc
        yield record


def read_recordio_protobuf(
    path: Path, *, dtype: npt.DTypeLike = "float32", display_name: str | None = None
) -> RecordSet:
    """Read ``features["values"]`` (dense or sparse) and ``label["values"]`` of every record of a file."""
    from opensage.formats._record_arrays import RowCollector

    name = display_name or path.name
    rows = RowCollector(name, dtype)
    try:
        with path.open("rb") as stream:
            for record in read_records(stream, source=name):
                rows.add(record)
    except OSError as exc:
        raise AlgorithmClientError(f"Cannot read {name}: {exc.strerror}") from exc
    return RecordSet(rows.features(), rows.labels())


def iter_record_batches(
    stream: BinaryIO, batch_size: int, *, dtype: npt.DTypeLike = "float32", source: str = "<stream>"
) -> Iterator[RecordSet]:
    """Read a RecordIO-protobuf stream ``batch_size`` records at a time, holding one batch in memory.

    Each batch is a ``RecordSet`` as ``read_recordio_protobuf`` builds for a whole file (dense,
    or CSR when any record of the batch is sparse); the stream may be a pipe.
    """
    from opensage.formats._record_arrays import RowCollector

    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    rows = RowCollector(source, dtype)
    for record in read_records(stream, source=source):
        rows.add(record)
        if rows.count == batch_size:
            yield RecordSet(rows.features(), rows.labels())
            rows = RowCollector(source, dtype, first_index=rows.first_index + batch_size)
    if rows.count:
        yield RecordSet(rows.features(), rows.labels())


def write_dense(stream: BinaryIO, array: np.ndarray, labels: np.ndarray | None = None) -> None:
    """Write each row of a 2-D array as one Record with a dense ``features["values"]`` tensor.

    The tensor type follows the dtype as in the SageMaker SDK: float32 → Float32Tensor,
    float64 → Float64Tensor, integers → Int32Tensor; ``labels`` (one per row) likewise.
    """
    import numpy as np

    from opensage.formats.record_pb2 import Record

    matrix = np.asarray(array)
    if matrix.ndim != 2:
        raise ValueError(f"write_dense expects a 2-D array, got {matrix.ndim} dimensions")
    label_values = _check_labels(labels, matrix.shape[0])
    features_field = _tensor_field(matrix.dtype)
    label_field = None if label_values is None else _tensor_field(label_values.dtype)
    record = Record()
    for row in range(matrix.shape[0]):
        record.Clear()
        tensor = getattr(record.features["values"], features_field)
        tensor.values.extend(_python_values(matrix[row], features_field))
        _set_label(record, label_field, label_values, row)
        write_recordio(stream, record.SerializeToString())


def write_sparse(stream: BinaryIO, matrix: Any, labels: np.ndarray | None = None) -> None:
    """Write each row of a scipy sparse matrix as one Record with a sparse ``features["values"]``.

    Each tensor holds the row's stored values, their column indices as ``keys`` and
    ``shape = [n_columns]``, as the SageMaker SDK writes them.
    """
    from scipy import sparse

    from opensage.formats.record_pb2 import Record

    if not sparse.issparse(matrix):
        raise ValueError("write_sparse expects a scipy sparse matrix")
    csr = sparse.csr_matrix(matrix)
    csr.sort_indices()
    label_values = _check_labels(labels, csr.shape[0])
    features_field = _tensor_field(csr.dtype)
    label_field = None if label_values is None else _tensor_field(label_values.dtype)
    record = Record()
    for row in range(csr.shape[0]):
        record.Clear()
        start, end = csr.indptr[row], csr.indptr[row + 1]
        tensor = getattr(record.features["values"], features_field)
        tensor.values.extend(_python_values(csr.data[start:end], features_field))
        tensor.keys.extend(csr.indices[start:end].tolist())
        tensor.shape.append(csr.shape[1])
        _set_label(record, label_field, label_values, row)
        write_recordio(stream, record.SerializeToString())


def _check_labels(labels: np.ndarray | None, n_rows: int) -> np.ndarray | None:
    import numpy as np

    if labels is None:
        return None
    values = np.asarray(labels)
    if values.ndim != 1 or values.shape[0] != n_rows:
        raise ValueError(f"labels must be a 1-D array of {n_rows} values, got shape {values.shape}")
    return values


def _tensor_field(dtype: np.dtype) -> str:
    """The Value field a numpy dtype is written to."""
    import numpy as np

    if dtype == np.float32 or dtype == np.float16:
        return "float32_tensor"
    if dtype == np.float64:
        return "float64_tensor"
    if np.issubdtype(dtype, np.integer) or dtype == np.bool_:
        return "int32_tensor"
    raise ValueError(f"cannot write dtype {dtype} to RecordIO-protobuf; use float32, float64 or integers")


def _python_values(values: np.ndarray, field: str) -> list[Any]:
    import numpy as np

    if field == "int32_tensor":
        info = np.iinfo(np.int32)
        if values.size and (values.min() < info.min or values.max() > info.max):
            raise ValueError("integer values outside the int32 range cannot be written to an Int32Tensor")
    return values.tolist()  # type: ignore[no-any-return]


def _set_label(record: Record, field: str | None, labels: np.ndarray | None, row: int) -> None:
    if field is None or labels is None:
        return
    tensor = getattr(record.label["values"], field)
    tensor.values.extend(_python_values(labels[row : row + 1], field))
