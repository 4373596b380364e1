"""Collect the rows of RecordIO-protobuf records into a dense array or a CSR matrix."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from opensage.errors import AlgorithmClientError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from scipy import sparse

    from opensage.formats.record_pb2 import Record, Value

_TENSOR_FIELDS = ("float32_tensor", "float64_tensor", "int32_tensor")
# Columns beyond int32 indices are no real data set (scipy and XGBoost index columns with int32).
MAX_WIDTH = 2**31 - 1


class RowCollector:
    """Rows added one Record at a time; ``features()`` and ``labels()`` assemble them."""

    def __init__(
        self, source: str, dtype: npt.DTypeLike, *, read_labels: bool = True, first_index: int = 0
    ) -> None:
        self._source = source
        # The stream position of this collector's first record, so that errors name the right one.
        self.first_index = first_index
        self._dtype = dtype
        # Inference requests may carry labels (a training file sent as is): they are ignored.
        self._read_labels = read_labels
        self._values: list[np.ndarray] = []
        # Column indices of each sparse row; None for a dense row.
        self._keys: list[np.ndarray | None] = []
        self._widths: list[int] = []
        self._labels: list[np.ndarray] = []

    @property
    def count(self) -> int:
        """How many records were added."""
        return len(self._values)

    def add(self, record: Record) -> None:
        index = len(self._values)
        if "values" not in record.features:
            raise self._error(index, 'has no features["values"] tensor')
        values, keys, width = self._features(record.features["values"], index)
        self._values.append(values)
        self._keys.append(keys)
        self._widths.append(width)
        has_label = self._read_labels and "values" in record.label
        if index and has_label != bool(self._labels):
            raise self._error(
                index, f"has a label where record {self.first_index} has none, or none where it has one"
            )
        if has_label:
            import numpy as np

            tensor = self._tensor(record.label["values"], index, "label")
            self._labels.append(np.asarray(tensor.values, dtype=np.float32))

    def features(self) -> np.ndarray | sparse.csr_matrix:
        import numpy as np

        if not self._values:
            return np.empty((0, 0), dtype=self._dtype)
        if all(keys is None for keys in self._keys):
            return self._dense()
        return self._sparse()

    def labels(self) -> np.ndarray | None:
        import numpy as np

        if not self._labels:
            return None
        sizes = {label.size for label in self._labels}
        if sizes == {1}:
            return np.concatenate(self._labels)
        if len(sizes) > 1:
            raise AlgorithmClientError(
                f"{self._source}: records hold label tensors of different sizes {sorted(sizes)}"
            )
        return np.stack(self._labels)

    def _features(self, value: Value, index: int) -> tuple[np.ndarray, np.ndarray | None, int]:
        import numpy as np

        tensor = self._tensor(value, index, "features")
        values = np.fromiter(tensor.values, dtype=self._dtype, count=len(tensor.values))
        if not tensor.keys and not (tensor.shape and values.size == 0):
            return values, None, values.size
        # A sparse row with no stored values has no keys either; its shape still gives its width.
        if not tensor.shape:
            raise self._error(index, "has sparse features (keys) but no shape")
        keys = np.asarray(tensor.keys, dtype=np.uint64)
        width = math.prod(tensor.shape)
        if width > MAX_WIDTH:
            raise self._error(index, f"has a shape {list(tensor.shape)} wider than {MAX_WIDTH} columns")
        if keys.size != values.size:
            raise self._error(index, f"has {keys.size} keys for {values.size} values")
        if keys.size and int(keys.max()) >= width:
            raise self._error(index, f"has key {int(keys.max())} outside its shape {list(tensor.shape)}")
        return values, keys.astype(np.int64), width

    def _tensor(self, value: Value, index: int, what: str) -> Any:
        kind = value.WhichOneof("value")
        if kind not in _TENSOR_FIELDS:
            raise self._error(
                index, f"has a {what} value of kind {kind or 'none'}; expected a numeric tensor"
            )
        return getattr(value, kind)

    def _dense(self) -> np.ndarray:
        import numpy as np

        width = self._widths[0]
        for index, row_width in enumerate(self._widths):
            if row_width != width:
                raise self._error(
                    index, f"has {row_width} features where record {self.first_index} has {width}"
                )
        return np.stack(self._values).astype(self._dtype, copy=False)

    def _sparse(self) -> sparse.csr_matrix:
        import numpy as np
        from scipy import sparse

        columns = [
            np.arange(values.size) if keys is None else keys
            for values, keys in zip(self._values, self._keys, strict=True)
        ]
        indptr = np.zeros(len(self._values) + 1, dtype=np.int64)
        np.cumsum([values.size for values in self._values], out=indptr[1:])
        matrix = sparse.csr_matrix(
            (np.concatenate(self._values), np.concatenate(columns), indptr),
            shape=(len(self._values), max(self._widths)),
            dtype=self._dtype,
        )
        matrix.sum_duplicates()
        return matrix

    def _error(self, index: int, problem: str) -> AlgorithmClientError:
        record = self.first_index + index
        return AlgorithmClientError(f"Invalid RecordIO-protobuf in {self._source}: record {record} {problem}")
