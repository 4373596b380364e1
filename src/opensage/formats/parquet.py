"""Read numeric Parquet files into 2-D numpy arrays (nulls become NaN), with pyarrow."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.errors import AlgorithmClientError
from opensage.formats._arrow import table_to_array

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

NUMERIC_HINT = "Parquet input must hold numeric columns only, with the label in the first column"


def read_parquet(
    path: Path, *, dtype: npt.DTypeLike = "float32", display_name: str | None = None
) -> np.ndarray:
    """Read every column of a Parquet file as a (rows, columns) array, in file column order.

    Integer, floating-point, boolean and decimal columns are accepted; any other type (a
    string, a list, ...) or a file that is not Parquet raises ``AlgorithmClientError``.
    """
    import numpy as np

    name = display_name or path.name
    table = _read_table(path, name)
    for index, column in enumerate(table.columns):
        _check_numeric(column, index, table.column_names[index], name)
    return table_to_array(table, np.dtype(dtype))


def _read_table(path: Path, name: str) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        return pq.read_table(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise AlgorithmClientError(f"Cannot read {name} as Parquet: {exc}") from exc


def _check_numeric(column: Any, index: int, column_name: str, name: str) -> None:
    import pyarrow.types as pa_types

    kind = column.type
    if not (
        pa_types.is_integer(kind)
        or pa_types.is_floating(kind)
        or pa_types.is_boolean(kind)
        or pa_types.is_decimal(kind)
        or pa_types.is_null(kind)
    ):
        raise AlgorithmClientError(
            f"Column {index + 1} ({column_name!r}) of {name} has type {kind}; {NUMERIC_HINT}"
        )
