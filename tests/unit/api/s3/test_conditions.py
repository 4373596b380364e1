"""Range headers and conditional requests, decided as S3 and RFC 9110 do."""

from __future__ import annotations

from datetime import UTC, datetime
from email.header import decode_header, make_header

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.datastructures import Headers

from opensage.api.s3.conditions import evaluate, parse_range, require_source_conditions
from opensage.api.s3.headers import http_date, object_headers, strip_aws_chunked
from opensage.errors import InvalidRange, PreconditionFailed
from opensage.objects.base import ObjectInfo

MODIFIED = datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)
INFO = ObjectInfo("b", "k", 10, "abc", MODIFIED)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-0", (0, 0)),
        ("bytes=2-4", (2, 4)),
        ("bytes=7-", (7, 9)),
        ("bytes=-3", (7, 9)),
        ("bytes=-30", (0, 9)),
        ("bytes=5-100", (5, 9)),
        ("bytes=4-2", None),
        ("bytes=1-2,4-5", None),
        ("items=1-2", None),
        (None, None),
    ],
)
def test_ranges(header: str | None, expected: tuple[int, int] | None) -> None:
    assert parse_range(header, 10) == expected


@pytest.mark.parametrize(
    ("header", "size"), [("bytes=10-", 10), ("bytes=-0", 10), ("bytes=0-", 0), ("bytes=-5", 0)]
)
def test_unsatisfiable_ranges(header: str, size: int) -> None:
    with pytest.raises(InvalidRange):
        parse_range(header, size)


@given(st.text(max_size=30), st.integers(0, 100))
def test_any_range_header_is_ignored_refused_or_within_the_object(header: str, size: int) -> None:
    try:
        chosen = parse_range(header, size)
    except InvalidRange:
        return
    if chosen is not None:
        assert 0 <= chosen[0] <= chosen[1] < size


def headers(**values: str) -> Headers:
    return Headers({name.replace("_", "-"): value for name, value in values.items()})


def test_conditions() -> None:
    earlier, later = http_date(datetime(2024, 4, 1, tzinfo=UTC)), http_date(datetime(2024, 6, 1, tzinfo=UTC))
    same_second = http_date(MODIFIED)
    assert evaluate(headers(), INFO) is None
    assert evaluate(headers(if_match='"abc"'), INFO) is None
    assert evaluate(headers(if_match='"x", W/"abc"'), INFO) is None
    assert evaluate(headers(if_match="*"), INFO) is None
    assert evaluate(headers(if_match='"nope"'), INFO) == 412
    assert evaluate(headers(if_unmodified_since=earlier), INFO) == 412
    assert evaluate(headers(if_unmodified_since=same_second), INFO) is None
    assert evaluate(headers(if_match='"abc"', if_unmodified_since=earlier), INFO) is None  # If-Match wins
    assert evaluate(headers(if_none_match='"abc"'), INFO) == 304
    assert evaluate(headers(if_none_match='"other"', if_modified_since=later), INFO) is None
    assert evaluate(headers(if_modified_since=later), INFO) == 304
    assert evaluate(headers(if_modified_since=same_second), INFO) == 304
    assert evaluate(headers(if_modified_since=earlier), INFO) is None
    assert evaluate(headers(if_modified_since="not a date"), INFO) is None
    with pytest.raises(PreconditionFailed):
        require_source_conditions(headers(x_amz_copy_source_if_none_match='"abc"'), INFO)


def test_non_ascii_header_values_are_rfc2047_encoded() -> None:
    info = ObjectInfo("b", "k", 1, "e", MODIFIED, metadata={"name": "café", "plain": "ok"})
    found = object_headers(info, with_checksums=False)
    assert (found["x-amz-meta-name"], found["x-amz-meta-plain"]) == ("=?UTF-8?B?Y2Fmw6k=?=", "ok")
    assert str(make_header(decode_header(found["x-amz-meta-name"]))) == "café"


def test_http_date_and_content_encoding() -> None:
    assert http_date(MODIFIED) == "Wed, 01 May 2024 12:00:00 GMT"
    assert strip_aws_chunked("aws-chunked") == ""
    assert strip_aws_chunked("aws-chunked, gzip") == "gzip"
