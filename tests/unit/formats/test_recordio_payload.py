"""application/x-recordio-protobuf request bodies: dense and sparse features, labels ignored, clean errors."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from opensage.formats.errors import PayloadError
from opensage.formats.record_pb2 import Record
from opensage.formats.recordio import MAGIC, write_dense, write_recordio, write_sparse
from opensage.formats.recordio_payload import parse_recordio_protobuf_payload


def dense_body(matrix: np.ndarray, labels: np.ndarray | None = None) -> bytes:
    stream = io.BytesIO()
    write_dense(stream, matrix, labels)
    return stream.getvalue()


def records_body(*records: Record) -> bytes:
    stream = io.BytesIO()
    for record in records:
        write_recordio(stream, record.SerializeToString())
    return stream.getvalue()


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32])
def test_dense_records_of_any_tensor_type(dtype: type) -> None:
    matrix: np.ndarray = np.arange(6).reshape(2, 3).astype(dtype)
    parsed = parse_recordio_protobuf_payload(dense_body(matrix))
    assert isinstance(parsed, np.ndarray) and parsed.dtype == np.float32
    assert np.array_equal(parsed, matrix.astype(np.float32))


def test_labels_are_ignored_even_when_only_some_records_have_one() -> None:
    labelled = Record()
    labelled.features["values"].float32_tensor.values.extend([1, 2])
    labelled.label["values"].float32_tensor.values.append(1)
    bare = Record()
    bare.features["values"].float32_tensor.values.extend([3, 4])
    parsed = parse_recordio_protobuf_payload(records_body(labelled, bare))
    assert np.array_equal(parsed, np.array([[1, 2], [3, 4]], dtype=np.float32))


def test_sparse_records_give_a_csr_matrix() -> None:
    matrix = sparse.csr_matrix(np.array([[0, 1.5, 0, 0], [2, 0, 0, 3]], dtype=np.float32))
    stream = io.BytesIO()
    write_sparse(stream, matrix)
    parsed = parse_recordio_protobuf_payload(stream.getvalue())
    assert sparse.issparse(parsed) and parsed.dtype == np.float32
    assert np.array_equal(sparse.csr_matrix(parsed).toarray(), matrix.toarray())


def test_an_empty_body_has_no_rows() -> None:
    assert parse_recordio_protobuf_payload(b"").shape == (0, 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"1,2,3,4,5\n", "Invalid RecordIO in the request body at record 0 (byte 0): bad magic word"),
        (struct.pack("<II", MAGIC, 40) + b"abc", "truncated record: 3 of 40 bytes"),
        (struct.pack("<II", MAGIC, 3) + b"\xff\xff\xff\x00", "record 0: not an aialgs.data.Record"),
    ],
)
def test_bad_framing_or_records_are_named(body: bytes, message: str) -> None:
    with pytest.raises(PayloadError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_recordio_protobuf_payload(body)


def test_records_of_different_widths_are_refused() -> None:
    first, second = Record(), Record()
    first.features["values"].float32_tensor.values.extend([1, 2])
    second.features["values"].float32_tensor.values.extend([1, 2, 3])
    with pytest.raises(PayloadError, match="record 1 has 3 features where record 0 has 2"):
        parse_recordio_protobuf_payload(records_body(first, second))


def test_a_record_without_features_is_refused() -> None:
    with pytest.raises(PayloadError, match=r'record 0 has no features\["values"\] tensor'):
        parse_recordio_protobuf_payload(records_body(Record()))


_UINTS = st.lists(st.integers(0, 2**64 - 1), max_size=4)


@st.composite
def random_records(draw: st.DrawFn) -> Record:
    record = Record()
    kind = draw(st.sampled_from(["float32_tensor", "float64_tensor", "int32_tensor", "bytes", None]))
    if kind is None:
        return record
    value = record.features[draw(st.sampled_from(["values", "other"]))]
    if kind == "bytes":
        value.bytes.value.append(draw(st.binary(max_size=4)))
        return record
    tensor = getattr(value, kind)
    numbers = st.integers(-(2**31), 2**31 - 1) if kind == "int32_tensor" else st.floats(width=32)
    tensor.values.extend(draw(st.lists(numbers, max_size=4)))
    tensor.keys.extend(draw(_UINTS))
    tensor.shape.extend(draw(_UINTS))
    return record


@settings(max_examples=300, deadline=None)
@given(st.lists(random_records(), max_size=4))
def test_random_records_raise_nothing_but_payload_error(records: list[Record]) -> None:
    try:
        parsed = parse_recordio_protobuf_payload(records_body(*records))
    except PayloadError:
        return
    assert parsed.dtype == np.float32 and parsed.ndim == 2


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200), st.booleans())
def test_random_bytes_raise_nothing_but_payload_error(data: bytes, framed: bool) -> None:
    body = struct.pack("<II", MAGIC, len(data)) + data + b"\0" * (-len(data) % 4) if framed else data
    try:
        parsed = parse_recordio_protobuf_payload(body)
    except PayloadError:
        return
    assert parsed.dtype == np.float32 and parsed.ndim == 2
