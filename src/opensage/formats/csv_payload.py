"""Parse a ``text/csv`` request body (no header, no label column) into a float32 matrix.

Two paths give the same result. Small bodies (a real-time request of a few rows) are split
and converted in Python, which costs a few microseconds where starting pyarrow's reader
costs a hundred. Large bodies (batch transform, up to 6 MB and beyond) go to pyarrow's
multi-threaded reader; whatever it refuses is read again in Python, which either accepts it
(pyarrow is the stricter of the two) or names the offending line and column.

Both parse every number as a double and round it once to float32, so the two paths agree
bit for bit. Imported by model servers only: it loads numpy at import.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from opensage.formats.csv import detect_delimiter
from opensage.formats.errors import PayloadError, excerpt

# Bodies at least this large are read with pyarrow: below it Python is faster.
ARROW_MIN_BYTES = 48 << 10
CSV_HINT = "CSV rows must hold numbers only (features, no label column) and no header"
_BOM = "\ufeff"


def parse_csv_payload(body: bytes, *, delimiter: str | None = None) -> np.ndarray:
    """Every non-empty line of ``body`` as one row of a (rows, columns) float32 array.

    The delimiter (``,`` tab ``;`` ``|`` or space) is detected from the first line unless
    given; empty cells are missing values (NaN); numbers may be quoted and surrounded by
    spaces; lines end with ``\\n``, ``\\r\\n`` or ``\\r``.
    A body without data gives a (0, 0) array. Raises ``PayloadError`` naming the line (and
    column) of a non-numeric cell or of a row whose width differs from the first row's.
    """
    if len(body) >= ARROW_MIN_BYTES:
        parsed = _parse_with_arrow(body, delimiter)
        if parsed is not None:
            return parsed
    return _parse_with_python(_decode(body), delimiter)


def _decode(body: bytes) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"The CSV body is not UTF-8 text (byte {exc.start}); {CSV_HINT}") from exc
    return text[1:] if text.startswith(_BOM) else text


def _split_lines(text: str) -> list[str]:
    # Not str.splitlines(): it also splits on form feeds and other separators pyarrow keeps in a cell.
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


def _parse_with_python(text: str, delimiter: str | None) -> np.ndarray:
    lines = _split_lines(text)
    first = next((line for line in lines if line), None)
    if first is None:
        return np.empty((0, 0), dtype=np.float32)
    sep = delimiter or detect_delimiter(first)
    width = first.count(sep) + 1
    # float() takes "1_000" and non-ASCII digits; pyarrow (and training) do not.
    plain = text.isascii() and "_" not in text
    values: list[float] = []
    n_rows = 0
    for number, line in enumerate(lines, start=1):
        if not line:
            continue
        cells = line.split(sep)
        if len(cells) != width:
            raise PayloadError(
                f"CSV line {number} has {len(cells)} columns where the first row has {width}; "
                "every row must have the same number of columns"
            )
        start = len(values)
        try:
            if not plain:
                raise ValueError
            values.extend(map(float, cells))
        except ValueError:
            del values[start:]  # what extend() took before the bad cell
            values.extend(_cell_values(cells, number))
        n_rows += 1
    with np.errstate(over="ignore"):  # beyond float32's range is infinity, as in training
        return np.array(values, dtype=np.float32).reshape(n_rows, width)


def _cell_values(cells: list[str], line_number: int) -> list[float]:
    """The row's values, empty cells as NaN; the first bad cell raises ``PayloadError``."""
    values = []
    for column, cell in enumerate(cells, start=1):
        text = cell.strip()
        if len(text) >= 2 and text[0] == text[-1] == '"':
            text = text[1:-1]  # a quoted number, as training reads them
        if not text:
            values.append(float("nan"))
            continue
        try:
            if not text.isascii() or "_" in text:
                raise ValueError
            values.append(float(text))
        except ValueError:
            raise PayloadError(
                f"Non-numeric value {excerpt(cell)} in CSV line {line_number} column {column}; {CSV_HINT}"
            ) from None
    return values


def _parse_with_arrow(body: bytes, delimiter: str | None) -> np.ndarray | None:
    """The array pyarrow reads, or None when it refuses the body (Python then says why)."""
    import pyarrow as pa

    from opensage.formats._arrow import table_to_array

    data = body[3:] if body.startswith(_BOM.encode()) else body
    first = _first_line(data)
    if first is None:
        return None
    sep = delimiter or detect_delimiter(first)
    try:
        table = _read_table(data, sep, first.count(sep) + 1)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    with np.errstate(over="ignore"):
        return table_to_array(table, np.dtype(np.float32))


def _first_line(data: bytes) -> str | None:
    """The first non-empty line, decoded; None when there is none or it is not ASCII."""
    start = 0
    while start < len(data):
        end = len(data)
        for terminator in (b"\n", b"\r"):
            found = data.find(terminator, start, end)
            if found >= 0:
                end = found
        if end > start:
            line = data[start:end]
            return line.decode("ascii") if line.isascii() else None
        start = end + 1
    return None


def _read_table(data: bytes, sep: str, width: int) -> Any:
    import pyarrow as pa
    import pyarrow.csv as pa_csv

    return pa_csv.read_csv(
        pa.py_buffer(data),
        read_options=pa_csv.ReadOptions(autogenerate_column_names=True),
        # No quoting: a quoted cell fails here and Python reads it, so both paths split lines alike.
        parse_options=pa_csv.ParseOptions(delimiter=sep, quote_char=False),
        convert_options=pa_csv.ConvertOptions(
            null_values=[""],
            strings_can_be_null=False,
            column_types={f"f{index}": pa.float64() for index in range(width)},
        ),
    )


def warm_up() -> None:
    """Load the large-payload parser now: its first use imports pyarrow's CSV reader (about 0.3 s),
    which a model server should pay while loading, not on its first large request."""
    parse_csv_payload(b"0,0\n" * 20_000)
