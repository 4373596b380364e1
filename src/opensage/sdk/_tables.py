"""In-memory tables (pandas DataFrames, NumPy arrays, lists of rows, ``(X, y)`` pairs) as CSV.

Two layouts:

- the built-in algorithms' training layout: the label in the first column, then the
  features, no header, numbers only (``training_csv``);
- a plain CSV of the table as it is, for users' scripts: a DataFrame keeps its header, an
  array has none (``plain_csv``).

pandas is optional: DataFrames are recognised by their class, never by importing pandas.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


def _is_pandas(value: object, kind: str) -> bool:
    return any(
        cls.__name__ == kind and cls.__module__.partition(".")[0] == "pandas" for cls in type(value).__mro__
    )


def is_dataframe(value: object) -> bool:
    return _is_pandas(value, "DataFrame")


def is_table(value: object) -> bool:
    """Whether ``value`` is data held in memory (rather than a path, a URI or bytes)."""
    if is_dataframe(value) or _is_pandas(value, "Series"):
        return True
    if type(value).__module__.partition(".")[0] == "numpy":
        return True
    return isinstance(value, list | tuple)


def is_pair(value: object) -> bool:
    """Whether ``value`` is ``(features, labels)``: two tables of the same length, the second one-dimensional."""
    if not isinstance(value, tuple) or len(value) != 2:
        return False
    features, labels = value
    if not (is_table(features) and is_table(labels)):
        return False
    import numpy as np

    try:
        label_array = np.asarray(labels)
        return label_array.ndim == 1 and len(label_array) == len(features) and _is_2d(features)
    except (TypeError, ValueError):
        return False


def _is_2d(value: object) -> bool:
    import numpy as np

    if is_dataframe(value):
        return True
    try:
        return bool(np.asarray(value).ndim == 2)
    except (TypeError, ValueError):
        return False


def training_csv(data: Any, label: Hashable | None) -> bytes:
    """The built-in algorithms' CSV: the label first, then the features, no header.

    ``label`` is a DataFrame column name or an array column index; an ``(X, y)`` pair
    needs none. Every value must be a number; missing values are written empty.
    """
    return number_rows(label_first_matrix(data, label))


def label_first_matrix(data: Any, label: Hashable | None) -> np.ndarray:
    """``data`` as a float matrix whose first column is the label."""
    import numpy as np

    if is_pair(data):
        if label is not None:
            raise ValueError("Give either an (X, y) pair or a label column, not both")
        features, labels = data
        return np.column_stack([_numeric_vector(labels), numeric_matrix(features)])
    if label is None:
        raise ValueError(
            "Say which column is the label (label='target' for a DataFrame, label=0 for an array whose "
            "first column is the label), or pass an (X, y) pair"
        )
    if is_dataframe(data):
        return _dataframe_label_first(data, label)
    matrix = numeric_matrix(data)
    if not isinstance(label, int) or isinstance(label, bool):
        raise TypeError(f"An array's label is a column index (an int), not {label!r}")
    width = matrix.shape[1]
    if not -width <= label < width:
        raise ValueError(f"label={label} is not a column of an array with {width} columns")
    index = label % width
    return np.column_stack([matrix[:, index], np.delete(matrix, index, axis=1)])


def _dataframe_label_first(frame: Any, label: Hashable) -> np.ndarray:
    import numpy as np

    columns = list(frame.columns)
    if label not in columns:
        shown = ", ".join(repr(column) for column in columns[:10])
        more = ", ..." if len(columns) > 10 else ""
        raise ValueError(f"label={label!r} is not a column of the DataFrame; its columns are {shown}{more}")
    features = frame.drop(columns=[label])
    return np.column_stack([_numeric_vector(frame[label]), numeric_matrix(features)])


def numeric_matrix(data: Any) -> np.ndarray:
    """``data`` as a two-dimensional float array; ValueError names what is not a number."""
    import numpy as np

    if is_dataframe(data):
        _check_numeric_columns(data)
        matrix: np.ndarray = data.to_numpy(dtype=np.float64, na_value=np.nan)
        return matrix
    try:
        matrix = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "The table holds values that are not numbers; built-in algorithms and CSV requests read "
            "numbers only: encode categories as numbers first"
        ) from exc
    if matrix.ndim == 1:
        raise ValueError("A table needs rows and columns; got a one-dimensional array")
    if matrix.ndim != 2:
        raise ValueError(f"A table needs two dimensions; got an array of shape {matrix.shape}")
    return matrix


def _numeric_vector(data: Any) -> np.ndarray:
    import numpy as np

    try:
        if _is_pandas(data, "Series"):
            vector: np.ndarray = data.to_numpy(dtype=np.float64, na_value=np.nan)
        else:
            vector = np.asarray(data, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(
            "The label holds values that are not numbers; built-in algorithms need numeric labels "
            "(for classification: 0, 1, ... num_class - 1)"
        ) from exc
    return vector.reshape(-1)


def _check_numeric_columns(frame: Any) -> None:
    # Booleans, integers, unsigned and floats: what to_numpy(float64) converts faithfully.
    others = [column for column in frame.columns if frame[column].dtype.kind not in "biuf"]
    if others:
        shown = ", ".join(repr(column) for column in others[:10])
        raise ValueError(
            f"Columns {shown} are not numeric; built-in algorithms and CSV requests read numbers only: "
            "encode them first (for example with pandas.get_dummies)"
        )


def number_rows(matrix: np.ndarray) -> bytes:
    """Rows of numbers as CSV: the shortest text that reads back as the same float, empty for missing."""
    lines = [",".join("" if value != value else repr(value) for value in row) for row in matrix.tolist()]
    return "".join(line + "\n" for line in lines).encode()


def plain_csv(data: Any) -> bytes:
    """The table as it is: a DataFrame with its header and without its index, an array without a header."""
    import numpy as np

    if is_dataframe(data):
        text: str = data.to_csv(index=False)
        return text.encode()
    if is_pair(data):
        features, labels = data
        return number_rows(np.column_stack([_numeric_vector(labels), numeric_matrix(features)]))
    array = np.asarray(data)
    if array.ndim == 1:
        array = array.reshape(-1, 1)
    if array.dtype.kind in "biuf":
        return number_rows(array.astype(np.int64) if array.dtype.kind == "b" else array)
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(array.tolist())
    return buffer.getvalue().encode()


def feature_lines(data: Any) -> Sequence[bytes]:
    """One CSV line (with its newline) per row of features, for an inference request.

    A one-dimensional array or a flat list is one row.
    """
    import numpy as np

    if is_dataframe(data):
        matrix = numeric_matrix(data)
    else:
        try:
            matrix = np.asarray(data, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise ValueError("CSV requests carry numbers only; use predict_raw for other payloads") from exc
        if matrix.ndim == 1:
            matrix = matrix.reshape(1, -1)
        elif matrix.ndim != 2:
            raise ValueError(f"Rows to predict need one or two dimensions; got shape {matrix.shape}")
    return number_rows(matrix).splitlines(keepends=True)
