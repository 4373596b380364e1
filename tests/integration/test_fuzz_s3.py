"""Random methods, paths, query strings, headers and bodies at S3.

Every request is signed as boto3 signs it, so it gets past authentication to the parsers.
Whatever arrives: no 500, always an answer, an ``<Error>`` document for a refusal, a
refused request changes no bucket or object, and no key puts a file outside the store.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fuzzing import FUZZ_SETTINGS
from tests.raw_http import send

from opensage.embedded import EmbeddedServer

BUCKET = "fuzz-bucket"
_PRINTABLE = st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
_KEY_PARTS = st.sampled_from(["a", "/", "..", ".", "\\", "\x00", "\n", "%", "é", "😀", " ", "~", "x" * 200])
KEYS = st.one_of(
    st.lists(_KEY_PARTS, min_size=1, max_size=8).map("".join),
    st.text(max_size=30),
    st.just("k" * 1100),
)
# Raw path segments, some not valid percent-encoding or not valid UTF-8 once decoded.
RAW_SEGMENTS = st.sampled_from(["%ff", "%00", "%2e%2e", "%2F", "%", "%zz", "..", "%c3%28"])
SUBRESOURCES = [
    "uploads", "uploadId", "partNumber", "delete", "tagging", "list-type", "prefix", "max-keys",
    "continuation-token", "marker", "delimiter", "encoding-type", "versionId", "acl", "location",
    "start-after", "fetch-owner", "max-uploads", "max-parts", "part-number-marker", "versioning",
    "encryption", "response-content-type", "x-id",
]  # fmt: skip
HEADERS = [
    "range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since", "content-md5",
    "content-type", "x-amz-checksum-crc32", "x-amz-checksum-sha256", "x-amz-sdk-checksum-algorithm",
    "x-amz-copy-source", "x-amz-copy-source-range", "x-amz-metadata-directive", "x-amz-meta-fuzz",
    "x-amz-tagging", "x-amz-server-side-encryption", "x-amz-decoded-content-length",
    "content-encoding", "x-amz-trailer", "x-amz-storage-class", "x-amz-acl", "expect",
]  # fmt: skip
_VALUES = st.one_of(
    _PRINTABLE,
    st.sampled_from(["", "0", "-1", "bytes=0-", "bytes=5-1", "aws-chunked", "*", "CRC32", "fuzz-bucket/a"]),
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
)
BODIES = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"<Delete><Object><Key>a</Key></Object></Delete>",
            b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>",
            b'<!DOCTYPE x [<!ENTITY a "aaaa">]><Tagging>&a;</Tagging>',
            b"<Tagging><TagSet><Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>",
            b"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>",
            b"5\r\nhello\r\n0\r\n\r\n",
        ]
    ),
)


@st.composite
def paths(draw: st.DrawFn) -> str:
    bucket = draw(st.sampled_from([BUCKET, BUCKET, "no-such-fuzz", "UPPER", "a", "..", "x" * 70]))
    shape = draw(st.sampled_from(["root", "bucket", "key", "key", "key", "raw"]))
    if shape == "root":
        return "/"
    if shape == "bucket":
        return f"/{bucket}"
    if shape == "raw":
        return f"/{bucket}/" + "".join(draw(st.lists(RAW_SEGMENTS, min_size=1, max_size=4)))
    return f"/{bucket}/" + quote(draw(KEYS), safe="/")


@st.composite
def requests(draw: st.DrawFn) -> tuple[str, str, dict[str, str], bytes]:
    method = draw(st.sampled_from(["GET", "HEAD", "PUT", "POST", "DELETE", "OPTIONS", "PATCH"]))
    query = draw(st.dictionaries(st.one_of(st.sampled_from(SUBRESOURCES), _PRINTABLE), _VALUES, max_size=3))
    path = draw(paths()) + (("?" + urlencode(query)) if query else "")
    headers = draw(st.dictionaries(st.sampled_from(HEADERS), _VALUES, max_size=4))
    body = draw(BODIES) if method in ("PUT", "POST") else b""
    return method, path, headers, body


def _state(s3: Any) -> tuple[list[str], list[tuple[str, str]]]:
    buckets = sorted(bucket["Name"] for bucket in s3.list_buckets()["Buckets"])
    objects = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return buckets, sorted((item["Key"], item["ETag"]) for item in objects)


def _entries_beside(home: Path) -> set[str]:
    # Everything next to and around the server's home: a key that escaped would land here.
    found: set[str] = set()
    for folder in (home.parent, home.parent.parent):
        found.update(str(folder / name) for name in os.listdir(folder))
    return found


@pytest.fixture(scope="module")
def fuzz_bucket(s3_client: Any) -> str:
    if BUCKET not in {bucket["Name"] for bucket in s3_client.list_buckets()["Buckets"]}:
        s3_client.create_bucket(Bucket=BUCKET)
    for key in ("a", "dir/b.csv", "é/😀"):
        s3_client.put_object(Bucket=BUCKET, Key=key, Body=b"seed")
    return BUCKET


def test_random_requests_at_s3(server: EmbeddedServer, s3_client: Any, fuzz_bucket: str) -> None:
    outside_before = _entries_beside(server.settings.home)

    @settings(FUZZ_SETTINGS, max_examples=400)
    @given(request=requests())
    def fuzz(request: tuple[str, str, dict[str, str], bytes]) -> None:
        method, path, headers, body = request
        before = _state(s3_client)
        answer = send(server.endpoint_url, method, path, "s3", body, headers, timeout=20)
        assert answer.status < 500 or answer.status == 501, (method, path, headers, answer.body)
        if answer.status >= 300 and answer.status != 304:
            if method != "HEAD" and answer.body:
                assert b"<Error><Code>" in answer.body, answer.body
            assert _state(s3_client) == before, (method, path, headers)

    fuzz()
    assert _entries_beside(server.settings.home) == outside_before


def test_a_key_with_a_line_break_is_an_ordinary_key(s3_client: Any, fuzz_bucket: str) -> None:
    # Found by the fuzzer: Starlette's path routes do not match "\n", so such keys got a bare 404.
    s3_client.put_object(Bucket=fuzz_bucket, Key="line\nbreak", Body=b"ok")
    assert s3_client.get_object(Bucket=fuzz_bucket, Key="line\nbreak")["Body"].read() == b"ok"
    s3_client.delete_object(Bucket=fuzz_bucket, Key="line\nbreak")
