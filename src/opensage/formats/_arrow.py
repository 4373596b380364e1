"""Copy Arrow tables into 2-D numpy arrays, chunk by chunk (a column's to_numpy would concatenate first)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def table_to_array(table: Any, dtype: np.dtype) -> np.ndarray:
    """A (rows, columns) array of ``dtype`` from an Arrow table of numeric columns; nulls become NaN."""
    import numpy as np
    import pyarrow as pa

    arrow_type = pa.from_numpy_dtype(dtype)
    out = np.empty((table.num_rows, table.num_columns), dtype=dtype)
    for index, column in enumerate(table.columns):
        offset = 0
        for chunk in column.chunks:
            # Casting to floating point turns nulls into NaN in to_numpy.
            values = chunk.cast(arrow_type).to_numpy(zero_copy_only=False)
            out[offset : offset + len(values), index] = values
            offset += len(values)
    return out
