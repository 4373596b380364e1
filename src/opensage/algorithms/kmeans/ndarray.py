"""SageMaker's K-Means model file ``model_algo-1``: one float32 matrix in MXNet's NDArray list format.

Users read SageMaker's K-Means centroids with ``mx.nd.load("model_algo-1")[0].asnumpy()``, so
opensage writes the same bytes MXNet's ``NDArray::Save`` does for a list of one dense CPU array
without names (little-endian)::

    uint64 0x112 (list magic)   uint64 0 (reserved)   uint64 1 (arrays)
    uint32 0xF993FAC9 (NDArray V2)   int32 0 (dense storage)
    uint32 ndim   int64 shape[ndim]   int32 1, int32 0 (cpu context, device 0)
    int32 0 (float32)   float32 data[...]   uint64 0 (no names)
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np

LIST_MAGIC = 0x112
NDARRAY_V2_MAGIC = 0xF993FAC9
_CPU, _DENSE, _FLOAT32 = 1, 0, 0


class NDArrayFormatError(ValueError):
    """The file is not a list of dense float32 NDArrays as MXNet writes it."""


def dump_matrices(matrices: list[np.ndarray]) -> bytes:
    """The bytes of ``mx.nd.save(path, [m, ...])`` for dense float32 matrices."""
    parts = [struct.pack("<QQQ", LIST_MAGIC, 0, len(matrices))]
    for matrix in matrices:
        data = np.ascontiguousarray(matrix, dtype="<f4")
        parts.append(struct.pack("<Ii", NDARRAY_V2_MAGIC, _DENSE))
        parts.append(struct.pack(f"<I{data.ndim}q", data.ndim, *data.shape))
        parts.append(struct.pack("<iii", _CPU, 0, _FLOAT32))
        parts.append(data.tobytes())
    parts.append(struct.pack("<Q", 0))
    return b"".join(parts)


def load_matrices(data: bytes) -> list[np.ndarray]:
    """The arrays of an NDArray list file (dense float32 only: what K-Means writes)."""
    reader = _Reader(data)
    magic, _, count = reader.unpack("<QQQ")
    if magic != LIST_MAGIC:
        raise NDArrayFormatError("not an MXNet NDArray list (bad magic number)")
    matrices = []
    for _ in range(count):
        array_magic, storage = reader.unpack("<Ii")
        if array_magic != NDARRAY_V2_MAGIC or storage != _DENSE:
            raise NDArrayFormatError("only dense NDArrays of format version 2 are read")
        (ndim,) = reader.unpack("<I")
        shape = reader.unpack(f"<{ndim}q")
        _, _, dtype = reader.unpack("<iii")
        if dtype != _FLOAT32:
            raise NDArrayFormatError(f"only float32 NDArrays are read, not type flag {dtype}")
        size = int(np.prod(shape)) * 4
        matrices.append(np.frombuffer(reader.take(size), dtype="<f4").reshape(shape).copy())
    return matrices


def save(path: Path, matrices: list[np.ndarray]) -> None:
    path.write_bytes(dump_matrices(matrices))


def load(path: Path) -> list[np.ndarray]:
    return load_matrices(path.read_bytes())


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise NDArrayFormatError("the file ends inside an array")
        chunk = self.data[self.offset : self.offset + size]
        self.offset += size
        return chunk

    def unpack(self, layout: str) -> tuple[int, ...]:
        values: tuple[int, ...] = struct.unpack(layout, self.take(struct.calcsize(layout)))
        return values
