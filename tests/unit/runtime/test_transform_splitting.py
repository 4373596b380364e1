"""Splitting input objects into records and batching them under MaxPayloadInMB."""

from __future__ import annotations

import io
import struct

import pytest

from opensage.errors import AlgorithmClientError
from opensage.runtime.transform.batches import Batch, batch_records, line_slices
from opensage.runtime.transform.records import Record, SplitType, iter_records

MAGIC = struct.pack("<I", 0xCED7230A)


def framed(payload: bytes, cflag: int = 0) -> bytes:
    return MAGIC + struct.pack("<I", cflag << 29 | len(payload)) + payload + b"\0" * (-len(payload) % 4)


def records(data: bytes, split: SplitType, limit: int = 0) -> list[Record]:
    return list(iter_records(io.BytesIO(data), split, limit, "s3://b/in/data.csv"))


def test_lines_are_numbered_in_the_file_and_empty_lines_are_not_records() -> None:
    found = records(b"1,2\n\n3,4\r\n\r\n5,6", SplitType.LINE)
    assert found == [Record(b"1,2", 1), Record(b"3,4", 3), Record(b"5,6", 5)]


def test_a_line_longer_than_the_limit_fails_naming_the_file_and_line() -> None:
    with pytest.raises(AlgorithmClientError, match=r"s3://b/in/data.csv line 2 is 11 bytes.*MaxPayloadInMB"):
        records(b"1,2\n12345678901\n3\n", SplitType.LINE, limit=10)


def test_a_huge_line_is_refused_without_reading_all_of_it() -> None:
    with pytest.raises(AlgorithmClientError, match="line 1"):
        records(b"x" * (9 << 20), SplitType.LINE, limit=1 << 20)


def test_no_split_is_the_whole_object_and_an_empty_object_no_record() -> None:
    assert records(b"a\nb\n", SplitType.NONE) == [Record(b"a\nb\n", 1)]
    assert records(b"", SplitType.NONE) == []
    with pytest.raises(AlgorithmClientError, match="larger than MaxPayloadInMB"):
        records(b"abcdef", SplitType.NONE, limit=5)


def test_recordio_splits_on_record_boundaries_keeping_the_framing() -> None:
    one, two = framed(b"abc"), framed(b"defgh")
    multi = framed(b"12", 1) + framed(b"34", 2) + framed(b"56", 3)
    found = records(one + multi + two, SplitType.RECORDIO)
    assert found == [Record(one, 1), Record(multi, 2), Record(two, 3)]
    assert b"".join(record.data for record in found) == one + multi + two


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x01\x02\x03\x04\x05\x06\x07\x08", "bad magic word"),
        (MAGIC + struct.pack("<I", 10) + b"abc", "truncated record"),
        (framed(b"ab", 2), "cflag 2"),
        (framed(b"ab", 1) + framed(b"cd", 0), "cflag 0"),
        (framed(b"ab", 1), "ends inside a multi-part record"),
        (MAGIC[:3], "truncated record header"),
    ],
)
def test_broken_recordio_fails_clearly(data: bytes, problem: str) -> None:
    with pytest.raises(AlgorithmClientError, match=f"not valid RecordIO.*{problem}"):
        records(data, SplitType.RECORDIO)


def test_a_recordio_record_over_the_limit_is_named() -> None:
    with pytest.raises(AlgorithmClientError, match="record 2 is 24 bytes"):
        records(framed(b"a") + framed(b"x" * 16), SplitType.RECORDIO, limit=20)


def test_single_record_sends_each_record_alone() -> None:
    batches = list(batch_records(records(b"a\nb\nc\n", SplitType.LINE), SplitType.LINE, False, 100, "f"))
    assert [b.payload for b in batches] == [b"a\n", b"b\n", b"c\n"]
    assert [b.first for b in batches] == [1, 2, 3]


def test_multi_record_fills_each_batch_up_to_the_byte_limit() -> None:
    lines = records(b"".join(b"%03d\n" % i for i in range(10)), SplitType.LINE)
    batches = list(batch_records(lines, SplitType.LINE, True, 12, "f"))
    assert [b.payload for b in batches] == [
        b"000\n001\n002\n",
        b"003\n004\n005\n",
        b"006\n007\n008\n",
        b"009\n",
    ]
    assert all(len(b.payload) <= 12 for b in batches)
    assert [b.count for b in batches] == [3, 3, 3, 1]


def test_an_encoded_record_over_the_limit_fails() -> None:
    with pytest.raises(AlgorithmClientError, match="line 1"):
        list(batch_records([Record(b"a", 1)], SplitType.LINE, True, 4, "f", encode=lambda r: b"long!"))


def test_line_slices_cut_at_newlines_within_the_limit_and_keep_every_byte() -> None:
    data = b"".join(b"%d,%d\n" % (i, i * i) for i in range(1000))
    batches = list(line_slices(io.BytesIO(data), 100, "f"))
    assert b"".join(b.payload for b in batches) == data
    assert all(len(b.payload) <= 100 and b.payload.endswith(b"\n") for b in batches)
    assert sum(b.count for b in batches) == 1000
    assert [b.first for b in batches][:2] == [1, 1 + batches[0].count]


def test_line_slices_match_the_record_path_around_empty_lines() -> None:
    data = b"\n1\n\n2\n3\n\r\n\n4\n5"
    sliced = list(line_slices(io.BytesIO(data), 6, "f"))
    numbers = [n for b in sliced for n, _ in b.numbered_pieces()]
    assert numbers == [2, 4, 5, 8, 9]
    assert b"".join(b.payload for b in sliced) == b"1\n2\n3\n4\n5"


def test_line_slices_refuse_a_line_longer_than_the_limit() -> None:
    with pytest.raises(AlgorithmClientError, match="line 3"):
        list(line_slices(io.BytesIO(b"a\nb\n" + b"c" * 50 + b"\n"), 10, "f"))


def test_a_batch_names_its_span() -> None:
    assert Batch(b"x\ny\n", 4, 2).span(SplitType.LINE) == "lines 4-5"
    assert Batch(b"x\n", 4, 1).span(SplitType.LINE) == "line 4"
    assert Batch(b"x", 1, 1).span(SplitType.NONE) == ""
    assert Batch(b"x\ny\n", 4, 2).numbered_pieces() == [(4, b"x\n"), (5, b"y\n")]
