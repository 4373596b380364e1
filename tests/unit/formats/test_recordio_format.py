"""RecordIO framing (cflag parts included) and RecordIO-protobuf records written as the SageMaker SDK does."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from opensage.errors import AlgorithmClientError
from opensage.formats import recordio
from opensage.formats.record_pb2 import Record
from opensage.formats.recordio import (
    MAGIC,
    read_recordio,
    read_recordio_protobuf,
    read_records,
    write_dense,
    write_recordio,
    write_sparse,
)

MAGIC_BYTES = struct.pack("<I", MAGIC)


def frame(cflag: int, payload: bytes) -> bytes:
    """One part as dmlc-core lays it out, built by hand rather than with the writer under test."""
    return struct.pack("<II", MAGIC, cflag << 29 | len(payload)) + payload + b"\0" * (-len(payload) % 4)


def read_all(data: bytes) -> list[bytes]:
    return list(read_recordio(io.BytesIO(data), source="data.rec"))


# --- framing ----------------------------------------------------------------------------------


def test_sdk_layout_magic_length_payload_padding() -> None:
    out = io.BytesIO()
    write_recordio(out, b"abcde")
    assert out.getvalue() == MAGIC_BYTES + struct.pack("<I", 5) + b"abcde\0\0\0"


def test_round_trips_payloads_of_every_padding() -> None:
    payloads = [b"", b"a", b"ab", b"abc", b"abcd", bytes(range(256)) * 3]
    out = io.BytesIO()
    for payload in payloads:
        write_recordio(out, payload)
    assert read_all(out.getvalue()) == payloads


def test_joins_hand_made_multipart_records_and_puts_the_magic_back() -> None:
    # A payload "AAAA<magic>BBBB<magic>CC" split as dmlc-core does: first, middle, last.
    data = frame(0, b"head") + frame(1, b"AAAA") + frame(2, b"BBBB") + frame(3, b"CC") + frame(0, b"tail")
    assert read_all(data) == [b"head", b"AAAA" + MAGIC_BYTES + b"BBBB" + MAGIC_BYTES + b"CC", b"tail"]


def test_the_writer_splits_on_aligned_magic_words_like_dmlc() -> None:
    payload = b"abcd" + MAGIC_BYTES + b"efgh" + MAGIC_BYTES + b"xy"
    out = io.BytesIO()
    write_recordio(out, payload, split_on_magic=True)
    cflags = [struct.unpack_from("<I", out.getvalue(), offset)[0] >> 29 for offset in (4, 16, 28)]
    assert cflags == [1, 2, 3]
    assert read_all(out.getvalue()) == [payload]


def test_an_unaligned_magic_word_is_not_split() -> None:
    payload = b"ab" + MAGIC_BYTES + b"cd"
    out = io.BytesIO()
    write_recordio(out, payload, split_on_magic=True)
    assert struct.unpack_from("<I", out.getvalue(), 4)[0] == len(payload)
    assert read_all(out.getvalue()) == [payload]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x01\x02\x03\x04\x05\x06\x07\x08", r"data\.rec at record 0 \(byte 0\): bad magic word 0x04030201"),
        (frame(0, b"abcd") + MAGIC_BYTES, r"at record 1 \(byte 12\): truncated record header"),
        (frame(0, b"abcdefgh")[:12], r"truncated record: 4 of 8 bytes"),
        (frame(2, b"abcd"), r"continuation part \(cflag 2\) without a first part"),
        (frame(3, b"abcd"), r"continuation part \(cflag 3\) without a first part"),
        (frame(1, b"abcd") + frame(0, b"efgh"), r"a record starts before the previous one's last part"),
        (frame(1, b"abcd") + frame(2, b"efgh"), r"the stream ends inside a multi-part record"),
        (struct.pack("<II", MAGIC, 5 << 29), r"invalid cflag 5"),
    ],
)
def test_broken_framing_is_a_client_error(data: bytes, expected: str) -> None:
    with pytest.raises(AlgorithmClientError, match=expected):
        read_all(data)


def test_reads_record_by_record_from_a_stream() -> None:
    stream = io.BytesIO(frame(0, b"first") + b"garbage!")
    records = read_recordio(stream)
    assert next(records) == b"first"
    # Only the first record (8 + 5 + 3 bytes) has been consumed so far.
    assert stream.tell() == 16
    with pytest.raises(AlgorithmClientError):
        next(records)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_give_records_or_a_clean_error(data: bytes) -> None:
    try:
        payloads = read_all(data)
    except AlgorithmClientError as error:
        assert "Invalid RecordIO in data.rec" in str(error)
    else:
        assert all(isinstance(payload, bytes) for payload in payloads)


parts = st.lists(st.tuples(st.integers(0, 7), st.binary(max_size=12), st.integers(0, 6)), max_size=6)


@settings(max_examples=300, deadline=None)
@given(parts)
def test_random_part_sequences_give_records_or_a_clean_error(sequence: list[tuple[int, bytes, int]]) -> None:
    # Well-formed headers with random cflags, lengths that lie by a few bytes, and missing padding.
    data = b"".join(
        struct.pack("<II", MAGIC, cflag << 29 | len(payload) + lie) + payload
        for cflag, payload, lie in sequence
    )
    try:
        read_all(data)
    except AlgorithmClientError as error:
        assert str(error).startswith("Invalid RecordIO in data.rec")


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=64))
def test_random_payloads_are_records_or_a_clean_error(payload: bytes) -> None:
    stream = io.BytesIO(frame(0, payload))
    try:
        records = list(read_records(stream, source="data.rec"))
    except AlgorithmClientError as error:
        assert "not an aialgs.data.Record" in str(error)
    else:
        assert len(records) == 1


# --- records ----------------------------------------------------------------------------------


def parse_records(data: bytes) -> list[Record]:
    return list(read_records(io.BytesIO(data)))


@pytest.mark.parametrize(
    ("dtype", "field"),
    [
        (np.float32, "float32_tensor"),
        (np.float64, "float64_tensor"),
        (np.int32, "int32_tensor"),
        (np.int64, "int32_tensor"),
    ],
)
def test_write_dense_uses_the_sdk_tensor_types(dtype: type, field: str) -> None:
    array: np.ndarray = np.array([[1, 2, 3], [4, 5, 6]], dtype=dtype)
    labels: np.ndarray = np.array([0, 1], dtype=dtype)
    out = io.BytesIO()
    write_dense(out, array, labels)
    records = parse_records(out.getvalue())
    assert len(records) == 2
    assert records[1].features["values"].WhichOneof("value") == field
    assert list(getattr(records[1].features["values"], field).values) == [4, 5, 6]
    assert list(getattr(records[1].label["values"], field).values) == [1]
    assert not getattr(records[1].features["values"], field).keys


def test_dense_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    array = rng.normal(size=(50, 7)).astype(np.float32)
    labels = rng.integers(0, 3, 50).astype(np.float32)
    path = tmp_path / "train.rec"
    with path.open("wb") as stream:
        write_dense(stream, array, labels)
    read = read_recordio_protobuf(path)
    assert isinstance(read.features, np.ndarray)
    assert np.array_equal(read.features, array)
    assert read.labels is not None and np.array_equal(read.labels, labels)


def test_float64_round_trip_keeps_precision(tmp_path: Path) -> None:
    array = np.array([[0.1, 1e-300], [np.pi, -2.5]])
    path = tmp_path / "train.rec"
    with path.open("wb") as stream:
        write_dense(stream, array)
    read = read_recordio_protobuf(path, dtype=np.float64)
    assert np.array_equal(read.features, array)
    assert read.labels is None


def test_sparse_round_trip(tmp_path: Path) -> None:
    matrix = sparse.random(40, 300, density=0.05, format="csr", random_state=1, dtype=np.float32)
    labels = np.arange(40, dtype=np.int32)
    path = tmp_path / "train.rec"
    with path.open("wb") as stream:
        write_sparse(stream, matrix, labels)
    record = parse_records(path.read_bytes())[0]
    tensor = record.features["values"].float32_tensor
    assert list(tensor.shape) == [300]
    assert list(tensor.keys) == sorted(matrix[0].indices.tolist())
    read = read_recordio_protobuf(path)
    assert sparse.issparse(read.features)
    assert read.features.shape == (40, 300)
    assert (read.features != matrix).nnz == 0
    assert read.labels is not None and np.array_equal(read.labels, labels)


def test_multipart_records_parse(tmp_path: Path) -> None:
    # 0xCED7230A as a float32 tensor value lands on a 4-byte boundary of the payload.
    magic_as_float = np.frombuffer(MAGIC_BYTES, dtype=np.float32)[0]
    record = Record()
    record.features["values"].float32_tensor.values.extend([1.0, float(magic_as_float), 2.0])
    payload = record.SerializeToString()
    assert MAGIC_BYTES in payload
    path = tmp_path / "split.rec"
    with path.open("wb") as stream:
        write_recordio(stream, payload, split_on_magic=True)
    assert path.read_bytes().count(MAGIC_BYTES) >= 2
    read = read_recordio_protobuf(path)
    assert read.features.tobytes() == np.array([1.0, magic_as_float, 2.0], dtype=np.float32).tobytes()


def records_file(tmp_path: Path, records: list[Record]) -> Path:
    path = tmp_path / "bad.rec"
    with path.open("wb") as stream:
        for record in records:
            write_recordio(stream, record.SerializeToString())
    return path


def test_rows_of_different_widths_name_the_record(tmp_path: Path) -> None:
    first, second = Record(), Record()
    first.features["values"].float32_tensor.values.extend([1, 2])
    second.features["values"].float32_tensor.values.extend([1, 2, 3])
    with pytest.raises(AlgorithmClientError, match=r"bad\.rec: record 1 has 3 features where record 0 has 2"):
        read_recordio_protobuf(records_file(tmp_path, [first, second]))


def test_a_record_without_features_is_named(tmp_path: Path) -> None:
    record = Record()
    record.label["values"].float32_tensor.values.append(1)
    with pytest.raises(AlgorithmClientError, match=r'record 0 has no features\["values"\]'):
        read_recordio_protobuf(records_file(tmp_path, [record]))


def test_sparse_keys_outside_the_shape(tmp_path: Path) -> None:
    record = Record()
    tensor = record.features["values"].float32_tensor
    tensor.values.extend([1.0])
    tensor.keys.extend([10])
    tensor.shape.extend([5])
    with pytest.raises(AlgorithmClientError, match=r"record 0 has key 10 outside its shape \[5\]"):
        read_recordio_protobuf(records_file(tmp_path, [record]))


def test_bytes_features_are_not_numeric(tmp_path: Path) -> None:
    record = Record()
    record.features["values"].bytes.value.append(b"jpeg")
    with pytest.raises(AlgorithmClientError, match=r"record 0 has a features value of kind bytes"):
        read_recordio_protobuf(records_file(tmp_path, [record]))


def test_labels_on_some_records_only(tmp_path: Path) -> None:
    first, second = Record(), Record()
    for record in (first, second):
        record.features["values"].float32_tensor.values.extend([1, 2])
    first.label["values"].float32_tensor.values.append(1)
    with pytest.raises(AlgorithmClientError, match=r"record 1 has a label where record 0 has none, or none"):
        read_recordio_protobuf(records_file(tmp_path, [first, second]))


def test_writers_reject_what_the_sdk_rejects() -> None:
    with pytest.raises(ValueError, match="2-D"):
        write_dense(io.BytesIO(), np.zeros(3))
    with pytest.raises(ValueError, match="labels"):
        write_dense(io.BytesIO(), np.zeros((2, 2)), np.zeros(3))
    with pytest.raises(ValueError, match="cannot write dtype"):
        write_dense(io.BytesIO(), np.zeros((2, 2), dtype=np.complex64))
    with pytest.raises(ValueError, match="scipy sparse"):
        write_sparse(io.BytesIO(), np.zeros((2, 2)))


def test_large_corrupt_lengths_do_not_allocate_them(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []

    class Recording(io.BytesIO):
        def read(self, size: int | None = -1) -> bytes:
            reads.append(size if size is not None else -1)
            return super().read(size)

    data = struct.pack("<II", MAGIC, (1 << 29) - 1) + b"short"
    with pytest.raises(AlgorithmClientError, match="truncated record"):
        list(read_recordio(Recording(data)))
    assert max(reads) <= recordio._READ_PIECE
