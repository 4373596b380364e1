"""Records are one line each, and scans return exactly the whole records, from any offset."""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opensage.logstore import records
from opensage.logstore.records import decode_record, encode_record, scan_backward, scan_forward

messages = st.text(min_size=1, max_size=200)
timestamps = st.integers(min_value=0, max_value=2**53)


Scan = Callable[[BinaryIO, int], Iterator[records.Line]]


def _scan(path: Path, scan: Scan, start: int) -> list[records.Line]:
    with open(path, "rb") as file:
        return list(scan(file, start))


@pytest.fixture(autouse=True)
def _tiny_chunks(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # Records then straddle read boundaries, which is where scanning bugs live.
    monkeypatch.setattr(records, "CHUNK_BYTES", 7)
    yield


@given(timestamps, timestamps, st.text(max_size=300))
def test_a_record_is_one_line_and_decodes_back(timestamp: int, ingestion: int, message: str) -> None:
    record = encode_record(timestamp, ingestion, message)
    assert record.endswith(b"\n") and record.count(b"\n") == 1
    assert decode_record(record[:-1]) == (timestamp, ingestion, message)


def test_newlines_and_control_characters_stay_inside_the_record() -> None:
    message = 'line one\nline two\r\n\x00\x1b[31m "quoted" \\ \u2028'
    assert decode_record(encode_record(1, 2, message)[:-1]) == (1, 2, message)


@pytest.mark.parametrize(
    "line", [b"", b"12 34", b'x 1 "a"', b'1 2 "unterminated', b"1 2 42", b'-1 2 "a"', b'1 2 "\xff"']
)
def test_lines_that_are_not_whole_records_decode_to_nothing(line: bytes) -> None:
    assert decode_record(line) is None


@given(st.lists(messages, max_size=12), st.binary(max_size=20).filter(lambda tail: b"\n" not in tail))
def test_scans_see_whole_records_only_in_both_directions(texts: list[str], partial: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stream.log"
        lines = [encode_record(i, i, text) for i, text in enumerate(texts)]
        path.write_bytes(b"".join(lines) + partial)
        forward = _scan(path, scan_forward, 0)
        backward = _scan(path, scan_backward, path.stat().st_size)
    expected = [line[:-1] for line in lines]
    assert [line for _, _, line in forward] == expected
    assert [line for _, _, line in backward] == expected[::-1]
    assert forward == backward[::-1]
    offsets = [0] + [end for _, end, _ in forward]
    assert [(start, end) for start, end, _ in forward] == list(itertools.pairwise(offsets))


@given(st.lists(messages, min_size=2, max_size=8), st.data())
def test_scans_resume_from_any_record_boundary(texts: list[str], data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "stream.log"
        path.write_bytes(b"".join(encode_record(i, i, text) for i, text in enumerate(texts)))
        every = _scan(path, scan_forward, 0)
        index = data.draw(st.integers(min_value=0, max_value=len(every) - 1))
        start, end, _ = every[index]
        assert _scan(path, scan_forward, start) == every[index:]
        assert _scan(path, scan_backward, end) == every[: index + 1][::-1]


def test_an_offset_inside_a_record_skips_to_the_next_whole_one(tmp_path: Path) -> None:
    path = tmp_path / "stream.log"
    first, second = encode_record(1700000000000, 1, "first"), encode_record(1700000000001, 2, "second")
    path.write_bytes(first + second)
    # Starting two bytes in must not read "00000000000 1 ..." as a record with another timestamp.
    assert [line for _, _, line in _scan(path, scan_forward, 2)] == [second[:-1]]
    assert [line for _, _, line in _scan(path, scan_backward, len(first) + 3)] == [first[:-1]]
    assert _scan(path, scan_forward, 10_000) == []


def test_a_file_without_any_whole_record_scans_empty(tmp_path: Path) -> None:
    path = tmp_path / "stream.log"
    path.write_bytes(b'1700000000000 1 "cut sho')
    assert _scan(path, scan_forward, 0) == []
    assert _scan(path, scan_backward, path.stat().st_size) == []
