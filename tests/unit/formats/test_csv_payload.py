"""text/csv request bodies: delimiters, missing cells, line endings, errors naming the line, both parse paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensage.formats import csv_payload
from opensage.formats.csv_payload import ARROW_MIN_BYTES, parse_csv_payload
from opensage.formats.errors import PayloadError


def both_paths(body: bytes) -> tuple[np.ndarray, np.ndarray | None]:
    """What Python reads, and what pyarrow reads (None where it refuses), whatever the body's size."""
    return csv_payload._parse_with_python(body.decode("utf-8-sig"), None), csv_payload._parse_with_arrow(
        body, None
    )


def test_one_row() -> None:
    assert np.array_equal(parse_csv_payload(b"1,2.5,-3"), np.array([[1, 2.5, -3]], dtype=np.float32))


@pytest.mark.parametrize("sep", [",", ";", "\t", " ", "|"])
def test_the_delimiter_is_sniffed(sep: str) -> None:
    body = f"1{sep}2\n3{sep}4\n".encode()
    assert np.array_equal(parse_csv_payload(body), np.array([[1, 2], [3, 4]], dtype=np.float32))


def test_empty_cells_are_nan_and_empty_lines_are_skipped() -> None:
    matrix = parse_csv_payload(b"\n1,,3\r\n\r\n4, 5 ,\r6,7,8")
    assert matrix.shape == (3, 3)
    assert np.isnan(matrix[0, 1]) and np.isnan(matrix[1, 2])
    assert matrix[1, 1] == 5 and matrix[2, 0] == 6


def test_a_bom_and_quoted_numbers_are_read() -> None:
    assert np.array_equal(parse_csv_payload('\ufeff"1",2\n'.encode()), np.array([[1, 2]], dtype=np.float32))


def test_numbers_are_rounded_once_to_float32() -> None:
    matrix = parse_csv_payload(b"0.1,1e39,-1e39,nan,inf")
    assert matrix.dtype == np.float32
    assert matrix[0, 0] == np.float32(0.1)
    assert matrix[0, 1] == np.inf and matrix[0, 2] == -np.inf
    assert np.isnan(matrix[0, 3]) and matrix[0, 4] == np.inf


@pytest.mark.parametrize("body", [b"", b"\n\n", b"\r\n"])
def test_a_body_without_lines_has_no_rows(body: bytes) -> None:
    assert parse_csv_payload(body).shape == (0, 0)


def test_a_non_numeric_cell_names_its_line_and_column() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_csv_payload(b"1,2,3\n\n4,abc,6\n")
    assert str(caught.value) == (
        "Non-numeric value 'abc' in CSV line 3 column 2; CSV rows must hold numbers only "
        "(features, no label column) and no header"
    )


@pytest.mark.parametrize("cell", ["1_000", "\u0661", "0x10", "1.5.2", '"1', "one"])
def test_what_training_would_refuse_is_refused(cell: str) -> None:
    with pytest.raises(PayloadError, match="line 1 column 2"):
        parse_csv_payload(f"1,{cell}".encode())


def test_a_long_cell_is_cut_short_in_the_message() -> None:
    with pytest.raises(PayloadError) as caught:
        parse_csv_payload(b"1," + b"x" * 1000)
    assert "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'" in str(caught.value)
    assert len(str(caught.value)) < 200


def test_a_row_of_another_width_names_its_line() -> None:
    with pytest.raises(PayloadError, match="CSV line 2 has 2 columns where the first row has 3"):
        parse_csv_payload(b"1,2,3\n4,5\n")


def test_a_body_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(PayloadError, match="not UTF-8"):
        parse_csv_payload(b"1,\xff\xfe")


def test_large_bodies_are_read_by_pyarrow_with_the_same_result() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(size=(4000, 12)).astype(np.float32)
    values[::5, 3] = np.nan
    text = "\n".join(",".join("" if np.isnan(v) else repr(float(v)) for v in row) for row in values)
    body = text.encode()
    assert len(body) >= ARROW_MIN_BYTES
    python, arrow = both_paths(body)
    assert arrow is not None
    assert np.array_equal(python, arrow, equal_nan=True)
    assert np.array_equal(parse_csv_payload(body), values, equal_nan=True)


def test_a_large_body_with_a_bad_cell_still_names_the_line() -> None:
    body = b"1,2\n" * 20_000 + b"3,x\n"
    assert len(body) >= ARROW_MIN_BYTES
    with pytest.raises(PayloadError, match="line 20001 column 2"):
        parse_csv_payload(body)


def test_a_large_body_pyarrow_refuses_but_python_reads_is_read() -> None:
    body = b'"1",2\n' * 10_000  # pyarrow is given no quoting; Python unquotes
    matrix = parse_csv_payload(body)
    assert matrix.shape == (10_000, 2)
    assert (matrix == np.array([1, 2], dtype=np.float32)).all()


_CELLS = st.one_of(
    st.floats(width=32, allow_nan=False).map(repr),
    st.integers(-(10**12), 10**12).map(str),
    st.sampled_from(["", " ", "nan", "-inf", "Infinity", "1e", ".5", "5.", "+1", "1_0", '"2"', "a", " 3 "]),
)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.lists(_CELLS, min_size=3, max_size=3), min_size=1, max_size=6), st.sampled_from([",", "\t"])
)
def test_pyarrow_never_reads_a_body_differently_from_python(rows: list[list[str]], sep: str) -> None:
    body = "\n".join(sep.join(row) for row in rows).encode()
    arrow = csv_payload._parse_with_arrow(body, None)
    try:
        python = csv_payload._parse_with_python(body.decode(), None)
    except PayloadError:
        assert arrow is None  # pyarrow accepts nothing Python refuses
        return
    assert arrow is None or np.array_equal(arrow, python, equal_nan=True)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_nothing_but_payload_error(body: bytes) -> None:
    try:
        matrix = parse_csv_payload(body)
    except PayloadError:
        return
    assert matrix.dtype == np.float32 and matrix.ndim == 2


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_random_bytes_through_pyarrow_raise_nothing_but_payload_error(chunk: bytes) -> None:
    body = chunk * (ARROW_MIN_BYTES // len(chunk) + 1)
    try:
        matrix = parse_csv_payload(body)
    except PayloadError:
        return
    assert matrix.dtype == np.float32 and matrix.ndim == 2
