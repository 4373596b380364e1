"""Tables as CSV: the built-in algorithms' layout (label first, no header, numbers only) and plain CSV."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from opensage.sdk._tables import (
    feature_lines,
    is_pair,
    is_table,
    label_first_matrix,
    plain_csv,
    training_csv,
)


def frame() -> pd.DataFrame:
    return pd.DataFrame({"a": [1.5, 2.0], "target": [0, 1], "b": [0.1, -3.25]})


def test_a_dataframe_label_column_moves_first_and_the_header_goes() -> None:
    assert training_csv(frame(), "target") == b"0.0,1.5,0.1\n1.0,2.0,-3.25\n"


def test_an_array_label_is_a_column_index_negative_ones_too() -> None:
    rows = np.array([[1.0, 2.0, 9.0], [3.0, 4.0, 8.0]])
    assert training_csv(rows, 2) == b"9.0,1.0,2.0\n8.0,3.0,4.0\n"
    assert training_csv(rows, -1) == training_csv(rows, 2)
    assert training_csv(rows, 0) == b"1.0,2.0,9.0\n3.0,4.0,8.0\n"


def test_an_x_y_pair_needs_no_label() -> None:
    features = np.array([[1.0, 2.0], [3.0, 4.0]])
    assert is_pair((features, [0, 1]))
    assert training_csv((features, np.array([0, 1])), None) == b"0.0,1.0,2.0\n1.0,3.0,4.0\n"
    series_pair = (pd.DataFrame(features, columns=["x", "y"]), pd.Series([1, 0]))
    assert training_csv(series_pair, None) == b"1.0,1.0,2.0\n0.0,3.0,4.0\n"
    with pytest.raises(ValueError, match="either an"):
        training_csv((features, [0, 1]), 0)


def test_two_rows_in_a_tuple_are_not_a_pair() -> None:
    assert not is_pair(([1.0, 2.0], [3.0, 4.0]))
    assert not is_pair((np.ones((3, 2)), np.ones(2)))


def test_values_round_trip_exactly_and_missing_values_are_empty() -> None:
    value = 0.1 + 0.2
    rows = np.array([[1.0, value, np.nan]])
    text = training_csv(rows, 0).decode()
    assert text == f"1.0,{value!r},\n"
    assert float(text.split(",")[1]) == value


def test_nullable_pandas_columns_become_missing_values() -> None:
    data = pd.DataFrame({"y": [1, 0], "x": pd.array([5, None], dtype="Int64")})
    assert training_csv(data, "y") == b"1.0,5.0\n0.0,\n"


def test_a_missing_label_says_how_to_name_one() -> None:
    with pytest.raises(ValueError, match="Say which column is the label"):
        training_csv(frame(), None)
    with pytest.raises(
        ValueError, match=r"label='y' is not a column of the DataFrame; its columns are 'a', 'target', 'b'"
    ):
        training_csv(frame(), "y")
    with pytest.raises(ValueError, match="not a column of an array with 3 columns"):
        training_csv(np.ones((2, 3)), 3)
    with pytest.raises(TypeError, match="column index"):
        training_csv(np.ones((2, 3)), "target")


def test_text_columns_are_named_in_the_error() -> None:
    data = frame().assign(city=["Oslo", "Lima"])
    with pytest.raises(ValueError, match=r"Columns 'city' are not numeric.*get_dummies"):
        training_csv(data, "target")
    with pytest.raises(ValueError, match="label holds values that are not numbers"):
        training_csv(frame().assign(target=["yes", "no"]), "target")


def test_booleans_and_integers_are_numbers() -> None:
    data = pd.DataFrame({"flag": [True, False], "n": np.array([3, 4], dtype=np.int32), "y": [1, 0]})
    assert label_first_matrix(data, "y").tolist() == [[1.0, 1.0, 3.0], [0.0, 0.0, 4.0]]


def test_one_dimensional_data_is_not_a_table_to_train_on() -> None:
    with pytest.raises(ValueError, match="one-dimensional"):
        training_csv(np.array([1.0, 2.0]), 0)


def test_plain_csv_keeps_a_dataframes_header_and_drops_its_index() -> None:
    data = pd.DataFrame({"x": [1, 2], "name": ["a", "b"]}, index=[10, 11])
    assert plain_csv(data) == b"x,name\n1,a\n2,b\n"
    assert plain_csv(np.array([[1, 2], [3, 4]])) == b"1,2\n3,4\n"
    assert plain_csv(np.array([True, False])) == b"1\n0\n"
    assert plain_csv([["a", "b,c"]]) == b'a,"b,c"\n'


def test_feature_lines_take_one_row_or_many() -> None:
    assert list(feature_lines([1.0, 2.0])) == [b"1.0,2.0\n"]
    assert list(feature_lines(np.array([[1, 2], [3, 4]]))) == [b"1.0,2.0\n", b"3.0,4.0\n"]
    assert list(feature_lines(pd.DataFrame({"a": [1.5], "b": [2]}))) == [b"1.5,2.0\n"]
    with pytest.raises(ValueError, match="numbers only"):
        feature_lines([["a", "b"]])
    with pytest.raises(ValueError, match="one or two dimensions"):
        feature_lines(np.ones((2, 2, 2)))


def test_what_counts_as_a_table() -> None:
    assert is_table(frame()) and is_table(np.ones(2)) and is_table([[1]]) and is_table(pd.Series([1]))
    assert not is_table("data.csv") and not is_table(b"1,2\n") and not is_table(3)
