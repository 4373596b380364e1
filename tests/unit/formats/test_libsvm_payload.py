"""text/libsvm request bodies: optional labels, qids, zero-based indices, errors naming the line, both passes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from opensage.formats import libsvm_payload
from opensage.formats.errors import PayloadError
from opensage.formats.libsvm_payload import VECTOR_MIN_BYTES, parse_libsvm_payload


def dense(matrix: sparse.csr_matrix) -> np.ndarray:
    return np.asarray(matrix.toarray())


def same(left: sparse.csr_matrix, right: sparse.csr_matrix) -> bool:
    return (
        left.shape == right.shape
        and np.array_equal(left.indptr, right.indptr)
        and np.array_equal(left.indices, right.indices)
        and np.array_equal(left.data, right.data, equal_nan=True)
    )


def test_labels_are_optional_and_ignored() -> None:
    matrix = parse_libsvm_payload(b"1 0:0.5 3:2\n2:1.5\n")
    assert matrix.dtype == np.float32
    assert np.array_equal(dense(matrix), np.array([[0.5, 0, 0, 2], [0, 0, 1.5, 0]], dtype=np.float32))


def test_qids_are_ignored_and_explicit_zeros_kept() -> None:
    matrix = parse_libsvm_payload(b"0 qid:3 1:0 2:4")
    assert matrix.shape == (1, 3)
    assert matrix.nnz == 2  # 1:0 is a value, not a missing one
    assert list(matrix.indices) == [1, 2] and list(matrix.data) == [0, 4]


def test_blank_lines_are_not_rows_and_line_endings_vary() -> None:
    matrix = parse_libsvm_payload(b"\n1 0:1\r\n\r\n0 1:2\r0 2:3\n   \n")
    assert matrix.shape == (3, 3)


def test_a_line_with_a_label_only_is_a_row_of_missing_values() -> None:
    matrix = parse_libsvm_payload(b"1 0:1\n0\n")
    assert matrix.shape == (2, 1)
    assert matrix.indptr.tolist() == [0, 1, 1]


def test_a_repeated_index_adds_up() -> None:
    assert dense(parse_libsvm_payload(b"1:1 1:2")).tolist() == [[0, 3]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"1 0:1\n1 2:x\n", "Invalid feature value in libsvm line 2: '2:x'"),
        (b"1 a:3", "Expected an index:value pair with a zero-based index in libsvm line 1: 'a:3'"),
        (b"1 -1:3", "Expected an index:value pair with a zero-based index in libsvm line 1: '-1:3'"),
        (b"1 2 3:4", "Expected an index:value pair with a zero-based index in libsvm line 1: '2'"),
        (b"x 1:2", "Invalid label in libsvm line 1: 'x'"),
        (b"1 3:", "Invalid feature value in libsvm line 1: '3:'"),
        (b"1 3:4:5", "Invalid feature value in libsvm line 1: '3:4:5'"),
        (b"1 3:1_0", "Invalid feature value in libsvm line 1: '3:1_0'"),
        (
            b"1 " + b"9" * 5000 + b":1",
            "Expected an index:value pair with a zero-based index in libsvm line 1",
        ),
        (b"1 2147483647:1", "Expected an index:value pair"),
    ],
)
def test_a_malformed_token_names_its_line(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError) as caught:
        parse_libsvm_payload(body)
    assert str(caught.value).startswith(message)
    assert len(str(caught.value)) < 300


def test_large_bodies_take_the_vector_pass_with_the_same_result() -> None:
    rng = np.random.default_rng(3)
    lines = []
    for number in range(3000):
        columns = np.sort(rng.choice(50, size=int(rng.integers(0, 8)), replace=False))
        tokens = [str(number % 2)] if number % 3 else []
        tokens += [f"qid:{number}"] if number % 5 == 0 else []
        tokens += [
            f"{column}:{float(value)!r}"
            for column, value in zip(columns, rng.normal(size=columns.size), strict=True)
        ]
        lines.append(" ".join(tokens))
    body = "\r\n".join(lines).encode()
    assert len(body) >= VECTOR_MIN_BYTES
    assert same(libsvm_payload._parse_vectorised(body), libsvm_payload._parse_lines(body))
    assert same(parse_libsvm_payload(body), libsvm_payload._parse_lines(body))


def test_a_large_body_with_a_bad_token_still_names_the_line() -> None:
    body = b"1 0:1 4:2\n" * 5000 + b"1 0:1 4:z\n"
    assert len(body) >= VECTOR_MIN_BYTES
    with pytest.raises(PayloadError, match="libsvm line 5001: '4:z'"):
        parse_libsvm_payload(body)


_TOKENS = st.one_of(
    st.tuples(st.integers(0, 40), st.floats(width=32, allow_nan=False)).map(lambda kv: f"{kv[0]}:{kv[1]!r}"),
    st.integers(0, 9).map(str),
    st.sampled_from(
        ["qid:7", "1:nan", "2:-inf", "3:1e5", "4:.5", "x", "1:", ":1", "1.5:2", "qid:x", "5:1:2"]
    ),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(_TOKENS, max_size=5), min_size=1, max_size=6))
def test_the_vector_pass_never_reads_a_body_differently(lines: list[list[str]]) -> None:
    body = "\n".join(" ".join(tokens) for tokens in lines).encode()
    try:
        expected = libsvm_payload._parse_lines(body)
    except PayloadError:
        with pytest.raises(libsvm_payload._Malformed):
            libsvm_payload._parse_vectorised(body)
        return
    try:
        vectorised = libsvm_payload._parse_vectorised(body)
    except libsvm_payload._Malformed:
        return  # the Python pass reads what the vector pass leaves
    assert same(vectorised, expected)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_raise_nothing_but_payload_error(body: bytes) -> None:
    try:
        matrix = parse_libsvm_payload(body)
    except PayloadError:
        return
    assert sparse.issparse(matrix) and matrix.dtype == np.float32


@settings(max_examples=100, deadline=None)
@given(st.binary(min_size=1, max_size=200))
def test_random_bytes_through_the_vector_pass_raise_nothing_but_payload_error(chunk: bytes) -> None:
    body = chunk * (VECTOR_MIN_BYTES // len(chunk) + 1)
    try:
        matrix = parse_libsvm_payload(body)
    except PayloadError:
        return
    assert sparse.issparse(matrix) and matrix.dtype == np.float32
