"""The JSONPath subset of InputFilter and OutputFilter: parsing, selecting, and clean errors on anything else."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opensage.errors import AlgorithmClientError, ValidationError
from opensage.runtime.transform.jsonpath import parse_json_path

ROW = ["id-7", "1.5", "2", "3", "4", "5", "6"]
OBJECT = {"id": 7, "features": [1, 2, 3], "a": {"b": {"c": "deep"}}, "SageMakerOutput": 0.5}


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("$", ROW, ROW),
        ("$[1:]", ROW, ROW[1:]),
        ("$[0]", ROW, "id-7"),
        ("$[-1]", ROW, "6"),
        ("$[1:3]", ROW, ["1.5", "2"]),
        ("$[:2]", ROW, ["id-7", "1.5"]),
        ("$[0,2,4]", ROW, ["id-7", "2", "4"]),
        ("$[0,5:]", ROW, ["id-7", "5", "6"]),
        ("$[ 0 , -1 ]", ROW, ["id-7", "6"]),
        ("$[*]", ROW, ROW),
        ("$.features", OBJECT, [1, 2, 3]),
        ("$.features[1]", OBJECT, 2),
        ("$.features[1:]", OBJECT, [2, 3]),
        ("$.a.b.c", OBJECT, "deep"),
        ("$['id']", OBJECT, 7),
        ("$['id','SageMakerOutput']", OBJECT, {"id": 7, "SageMakerOutput": 0.5}),
        ('$.a.["b"]', OBJECT, {"c": "deep"}),
        ("$.a.b['c']", OBJECT, "deep"),
        ("$.*", {"x": 1, "y": 2}, [1, 2]),
        ("$[*].x", [{"x": 1}, {"x": 2}], [1, 2]),
    ],
)
def test_selects_as_sagemaker_documents(path: str, value: Any, expected: Any) -> None:
    assert parse_json_path(path).select(value) == expected


def test_the_root_selects_everything() -> None:
    assert parse_json_path("$").is_root()
    assert not parse_json_path("$[1:]").is_root()


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("", "must start with \\$"),
        ("features", "must start with \\$"),
        ("$..a", "recursive descent"),
        ("$[1", "not closed"),
        ("$[]", "an empty entry is not an index"),
        ("$[a]", "a is not an index"),
        ("$['a',1]", "not both"),
        ("$['a','b'].c", "nothing may follow"),
        ("$x", "unexpected 'x'"),
        ("$.", "field name must follow"),
        ("$[1:2:3]", "not an index, a slice"),
        ("$[99999999999999999999999]", "not an index"),
    ],
)
def test_anything_outside_the_subset_is_a_validation_error(path: str, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        parse_json_path(path, "InputFilter")


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        ("$[9]", ROW, "index 9 of an array of 7"),
        ("$.id", ROW, "field 'id' of an array"),
        ("$.missing", OBJECT, "does not have"),
        ("$[0]", OBJECT, "not an array"),
        ("$.id.x", OBJECT, "of a number"),
    ],
)
def test_selecting_what_is_not_there_fails_with_a_client_error(path: str, value: Any, problem: str) -> None:
    with pytest.raises(AlgorithmClientError, match=problem):
        parse_json_path(path).select(value)


SAMPLES: list[Any] = [ROW, OBJECT, [], {}, "text", 3, [[1, 2], {"a": 1}]]


@given(st.text(max_size=63))
def test_any_string_parses_or_fails_cleanly(text: str) -> None:
    _parse_and_select(text)


@given(st.text(alphabet="$.[]'\",:*-0123456789abc ", max_size=63))
def test_path_like_strings_parse_or_fail_cleanly(text: str) -> None:
    _parse_and_select(text)


def _parse_and_select(text: str) -> None:
    try:
        path = parse_json_path(text)
    except ValidationError as error:
        assert "JSONPath" in error.message
        return
    assert path.text == text
    for value in SAMPLES:
        try:
            path.select(value)
        except AlgorithmClientError as error:
            assert text in str(error)
