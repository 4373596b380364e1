"""Numeric Parquet columns into arrays; nulls become NaN, other types are client errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from opensage.errors import AlgorithmClientError
from opensage.formats.parquet import read_parquet


def test_reads_numeric_columns_in_order_with_nulls_as_nan(tmp_path: Path) -> None:
    path = tmp_path / "part-0.parquet"
    table = pa.table(
        {
            "label": pa.array([1, 0, None], type=pa.int64()),
            "x": pa.array([0.5, None, 2.0], type=pa.float32()),
            "flag": pa.array([True, False, True]),
        }
    )
    pq.write_table(table, path)
    out = read_parquet(path, dtype=np.float64)
    assert out.shape == (3, 3)
    assert np.array_equal(out[:2, 0], [1, 0]) and np.isnan(out[2, 0])
    assert np.isnan(out[1, 1]) and out[2, 1] == 2.0
    assert np.array_equal(out[:, 2], [1, 0, 1])


def test_a_string_column_is_named(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    pq.write_table(pa.table({"label": [1.0], "city": ["Paris"]}), path)
    with pytest.raises(AlgorithmClientError, match=r"Column 2 \('city'\) of t\.parquet has type string"):
        read_parquet(path)


def test_a_file_that_is_not_parquet(tmp_path: Path) -> None:
    path = tmp_path / "t.parquet"
    path.write_text("1,2,3\n")
    with pytest.raises(AlgorithmClientError, match=r"Cannot read t\.parquet as Parquet"):
        read_parquet(path)
