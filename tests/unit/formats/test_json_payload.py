"""application/json and application/jsonlines request bodies in the shapes SageMaker documents."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from opensage.formats.errors import PayloadError
from opensage.formats.json_payload import parse_json_payload, parse_jsonlines_payload

EXPECTED = np.array([[1.5, 16, 14], [2, 0, -1]], dtype=np.float32)


def as_json(document: object) -> bytes:
    return json.dumps(document).encode()


@pytest.mark.parametrize(
    "document",
    [
        {"instances": [{"features": [1.5, 16, 14]}, {"features": [2, 0, -1]}]},
        {"instances": [[1.5, 16, 14], [2, 0, -1]]},
        {"instances": [{"data": {"features": {"values": [1.5, 16, 14]}}}, {"features": [2, 0, -1]}]},
        [[1.5, 16, 14], [2, 0, -1]],
    ],
)
def test_dense_instances(document: object) -> None:
    matrix = parse_json_payload(as_json(document))
    assert isinstance(matrix, np.ndarray) and matrix.dtype == np.float32
    assert np.array_equal(matrix, EXPECTED)


@pytest.mark.parametrize(
    "document", [{"features": [1.5, 16, 14]}, [1.5, 16, 14], {"instances": [[1.5, 16, 14]]}]
)
def test_a_single_instance(document: object) -> None:
    assert np.array_equal(parse_json_payload(as_json(document)), EXPECTED[:1])


def test_null_is_a_missing_value() -> None:
    matrix = parse_json_payload(b'{"features": [1, null, 3]}')
    assert np.isnan(matrix[0, 1]) and matrix[0, 2] == 3


def test_sparse_instances_give_a_csr_matrix() -> None:
    body = as_json(
        {
            "instances": [
                {"data": {"features": {"keys": [3, 0], "shape": [5], "values": [4, 1]}}},
                {"features": [7, 8]},
            ]
        }
    )
    matrix = parse_json_payload(body)
    assert sparse.issparse(matrix) and matrix.dtype == np.float32
    assert sparse.csr_matrix(matrix).toarray().tolist() == [[1, 0, 0, 4, 0], [7, 8, 0, 0, 0]]


def test_no_instances_give_no_rows() -> None:
    assert parse_json_payload(b'{"instances": []}').shape == (0, 0)
    assert parse_json_payload(b"[]").shape == (0, 0)


def test_json_lines_hold_one_instance_per_line() -> None:
    body = b'{"features": [1.5, 16, 14]}\n\n[2, 0, -1]\n'
    assert np.array_equal(parse_jsonlines_payload(body), EXPECTED)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{", "The JSON body is not valid JSON"),
        (b'{"instances": 3}', '"instances" must be an array'),
        (b'{"instances": [3]}', "JSON instance 0 is neither an object nor an array"),
        (b'{"instances": [{"values": [1]}]}', 'JSON instance 0 has no "features"'),
        (b'{"features": [1, "2"]}', 'JSON instance 0: value 1 of "features" is not a number'),
        (b'{"features": [1, true]}', 'JSON instance 0: value 1 of "features" is not a number'),
        (b'{"instances": [[1, 2], [1]]}', "JSON instance 1 has 1 values where instance 0 has 2"),
        (b'{"features": [1e999999, 2]}', None),
        (b'{"features": [1' + b"0" * 400 + b"]}", "A JSON value is too large for a number"),
        (
            b'{"data": {"features": {"keys": [9], "shape": [5], "values": [1]}}}',
            'key 9 is outside "shape" [5]',
        ),
        (b'{"data": {"features": {"keys": [1, 2], "shape": [5], "values": [1]}}}', '"keys" must be as many'),
        (b'{"data": {"features": {"keys": [1], "values": [1]}}}', 'sparse features need "shape"'),
        (b"[" * 100_000, "nested too deeply"),
    ],
)
def test_bad_bodies_say_what_is_wrong(body: bytes, message: str | None) -> None:
    if message is None:  # JSON's huge float literals are infinity, as Python reads them
        assert parse_json_payload(body)[0, 0] == np.inf
        return
    with pytest.raises(PayloadError, match=message.replace("[", r"\[").replace("(", r"\(")):
        parse_json_payload(body)


def test_a_bad_json_line_is_named() -> None:
    with pytest.raises(PayloadError, match="JSON Lines line 3 is not valid JSON"):
        parse_jsonlines_payload(b"[1]\n[2]\n[3\n")


_JSON = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=5),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["instances", "features", "data", "values", "keys", "shape", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.binary(max_size=200), _JSON.map(as_json)))
def test_random_bodies_raise_nothing_but_payload_error(body: bytes) -> None:
    for parse in (parse_json_payload, parse_jsonlines_payload):
        try:
            matrix = parse(body)
        except PayloadError:
            continue
        assert matrix.dtype == np.float32 and matrix.ndim == 2
