"""Read headerless numeric CSV files into 2-D numpy arrays, with errors that name the line."""

from __future__ import annotations

import csv as stdlib_csv
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.errors import AlgorithmClientError
from opensage.formats._arrow import table_to_array

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

# In order of preference when a first line holds as many of one as of another.
DELIMITERS = (",", "\t", ";", "|", " ")
NUMERIC_HINT = "CSV input must be numeric with the label in the first column and no header"
# Enough of a file to hold its first line in all but pathological cases.
_SNIFF_BYTES = 1 << 16


def detect_delimiter(first_line: str) -> str:
    """The delimiter used in ``first_line``: the candidate it holds most often, ``,`` by default."""
    counts = [(first_line.count(candidate), -rank) for rank, candidate in enumerate(DELIMITERS)]
    best_count, best_rank = max(counts)
    return DELIMITERS[-best_rank] if best_count > 0 else ","


def read_csv(
    path: Path,
    *,
    dtype: npt.DTypeLike = "float32",
    delimiter: str | None = None,
    display_name: str | None = None,
) -> np.ndarray:
    """Read every row of a headerless numeric CSV file as a (rows, columns) array.

    Empty cells become NaN; blank lines are skipped; the delimiter is detected from the first
    line unless given. An empty file gives a (0, 0) array. A non-numeric cell or a row whose
    column count differs from the first row's raises ``AlgorithmClientError`` naming the file
    (``display_name``, by default the file name), the line and the column.
    """
    import numpy as np

    name = display_name or path.name
    first_line = _first_line(path, name)
    if first_line is None:
        return np.empty((0, 0), dtype=dtype)
    sep = delimiter or detect_delimiter(first_line)
    n_columns = _count_fields(first_line, sep)
    table = _read_table(path, name, sep, n_columns, np.dtype(dtype))
    return table_to_array(table, np.dtype(dtype))


def _first_line(path: Path, name: str) -> str | None:
    """The first non-blank line of the file (decoded), or None for a file with no data."""
    try:
        with path.open("rb") as stream:
            while chunk := stream.read(_SNIFF_BYTES):
                for raw in chunk.splitlines():
                    if raw.strip():
                        return raw.decode("utf-8-sig", errors="replace")
    except OSError as exc:
        raise AlgorithmClientError(f"Cannot read {name}: {exc.strerror}") from exc
    return None


def _count_fields(line: str, sep: str) -> int:
    return len(next(stdlib_csv.reader([line], delimiter=sep)))


def _read_table(path: Path, name: str, sep: str, n_columns: int, dtype: np.dtype) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    arrow_type = pa.from_numpy_dtype(dtype)
    try:
        return pa_csv.read_csv(
            path,
            read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
            parse_options=pa_csv.ParseOptions(delimiter=sep),
            convert_options=pa_csv.ConvertOptions(
                null_values=[""],
                column_types={f"f{index}": arrow_type for index in range(n_columns)},
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        # pyarrow's messages carry no line numbers: find the offending cell ourselves.
        raise AlgorithmClientError(_locate_error(path, name, sep, n_columns, str(exc))) from exc


def _locate_error(path: Path, name: str, sep: str, n_columns: int, arrow_message: str) -> str:
    """Describe the first bad line of a file that pyarrow refused (a slow pass, errors only)."""
    for line_number, cells in _rows(path, sep):
        if len(cells) != n_columns:
            return (
                f"{name} line {line_number} has {len(cells)} columns where the first row has "
                f"{n_columns}; every row must have the same number of columns"
            )
        for column, cell in enumerate(cells, start=1):
            if not _is_number(cell):
                shown = cell if len(cell) <= 40 else cell[:37] + "..."
                where = f"{name} line {line_number} column {column}"
                return f"Non-numeric value {shown!r} in {where}; {NUMERIC_HINT}"
    return f"Cannot parse {name} as CSV ({arrow_message}); {NUMERIC_HINT}"


def _rows(path: Path, sep: str) -> Iterator[tuple[int, list[str]]]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as stream:
        for line_number, line in enumerate(stream, start=1):
            if line.strip():
                yield line_number, next(stdlib_csv.reader([line], delimiter=sep))


def _is_number(cell: str) -> bool:
    """Whether pyarrow reads the cell: empty (a missing value) or a plain float literal."""
    text = cell.strip()
    if not text:
        return True
    if "_" in text:  # Python's float() takes "1_000"; pyarrow does not
        return False
    try:
        float(text)
    except ValueError:
        return False
    return True
