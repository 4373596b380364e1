"""Headerless numeric CSV: delimiters, missing cells, and errors that name the file, line and column."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from opensage.errors import AlgorithmClientError
from opensage.formats.csv import detect_delimiter, read_csv


def write(tmp_path: Path, text: str, name: str = "train.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode())
    return path


@pytest.mark.parametrize(
    ("line", "delimiter"),
    [("1,2,3", ","), ("1;2;3", ";"), ("1\t2\t3", "\t"), ("1 2 3", " "), ("1, 2, 3", ","), ("5", ",")],
)
def test_detects_the_delimiter_from_the_first_line(line: str, delimiter: str) -> None:
    assert detect_delimiter(line) == delimiter


@pytest.mark.parametrize("sep", [",", ";", "\t", " "])
def test_reads_every_delimiter(tmp_path: Path, sep: str) -> None:
    path = write(tmp_path, f"1{sep}2.5{sep}-3\n0{sep}1e-3{sep}4\n")
    assert np.array_equal(read_csv(path), np.array([[1, 2.5, -3], [0, 1e-3, 4]], dtype=np.float32))


def test_empty_cells_are_nan_and_blank_lines_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "1,,3\r\n\n4, 5 ,\n")
    table = read_csv(path, dtype=np.float64)
    assert table.shape == (2, 3)
    assert np.isnan(table[0, 1]) and np.isnan(table[1, 2])
    assert table[1, 1] == 5.0


def test_a_utf8_bom_and_quoted_numbers_are_fine(tmp_path: Path) -> None:
    path = write(tmp_path, '\ufeff"1","2"\n3,4\n')
    assert np.array_equal(read_csv(path), np.array([[1, 2], [3, 4]], dtype=np.float32))


def test_an_empty_file_has_no_rows(tmp_path: Path) -> None:
    assert read_csv(write(tmp_path, "\n\n")).shape == (0, 0)


def test_a_non_numeric_cell_names_file_line_and_column(tmp_path: Path) -> None:
    rows = "".join(f"{i},{i + 1},{i + 2}\n" for i in range(16))
    path = write(tmp_path, rows + "1,2,abc\n")
    with pytest.raises(AlgorithmClientError) as caught:
        read_csv(path)
    assert str(caught.value) == (
        "Non-numeric value 'abc' in train.csv line 17 column 3; CSV input must be numeric with the label "
        "in the first column and no header"
    )


def test_a_header_is_reported_as_non_numeric(tmp_path: Path) -> None:
    path = write(tmp_path, "label,x1\n1,2\n")
    with pytest.raises(AlgorithmClientError, match=r"'label' in data/t\.csv line 1 column 1;.*no header"):
        read_csv(path, display_name="data/t.csv")


def test_rows_with_differing_column_counts_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "1,2,3\n4,5,6\n7,8\n")
    with pytest.raises(
        AlgorithmClientError, match=r"train\.csv line 3 has 2 columns where the first row has 3"
    ):
        read_csv(path)


def test_python_only_number_spellings_are_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "1,2\n3,1_000\n")
    with pytest.raises(AlgorithmClientError, match=r"'1_000' in train\.csv line 2 column 2"):
        read_csv(path)
