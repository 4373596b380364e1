"""XML parsing and rendering, path and query decoding, listing encodings and tokens."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import unquote_plus

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opensage.api.s3 import xml
from opensage.api.s3.context import Query, split_path
from opensage.api.s3.listing import decode_token, encode_token, url_encode
from opensage.api.s3.routing import choose_handler
from opensage.errors import InvalidArgument, MalformedXML, MethodNotAllowed, S3NotImplemented

TEXT = st.text(st.characters(exclude_categories=["Cs"]))


def test_parse_accepts_namespaced_and_plain_bodies() -> None:
    plain = xml.parse(b"<Delete><Quiet>true</Quiet><Object><Key>a</Key></Object></Delete>", "Delete")
    spaced = xml.parse(
        f'<Delete xmlns="{xml.S3_NAMESPACE}"><Object><Key>b</Key></Object></Delete>'.encode(), "Delete"
    )
    assert xml.child_text(plain, "Quiet") == "true"
    assert [xml.child_text(o, "Key") for o in xml.children(spaced, "Object")] == ["b"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<Delete>",
        b"<Other/>",
        b'<!DOCTYPE x [<!ENTITY a "b">]><Delete>&a;</Delete>',
        b'<?xml version="1.0"?><!doctype Delete SYSTEM "file:///etc/passwd"><Delete/>',
    ],
)
def test_parse_refuses_bad_bodies(body: bytes) -> None:
    with pytest.raises(MalformedXML):
        xml.parse(body, "Delete")


@given(st.binary(max_size=200))
def test_parse_never_fails_other_than_malformed_xml(body: bytes) -> None:
    try:
        root = xml.parse(body, "Delete")
    except MalformedXML:
        return
    assert xml.local_name(root.tag) == "Delete"


def test_rendering_uses_the_s3_namespace() -> None:
    root = xml.document("ListBucketResult")
    xml.add(root, "IsTruncated", False)
    xml.add_all(root, [("Name", "b"), ("Skipped", None)])
    assert xml.to_bytes(root) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
        b"<IsTruncated>false</IsTruncated><Name>b</Name></ListBucketResult>"
    )
    assert xml.iso_timestamp(datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)) == "2024-01-02T03:04:05.678Z"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"/", ("", "")),
        (b"/bucket", ("bucket", "")),
        (b"/bucket/", ("bucket", "")),
        (b"/bucket/a+b%20c", ("bucket", "a+b c")),
        (b"/bucket/dir%2Ffile", ("bucket", "dir/file")),
        (b"/bucket//lead", ("bucket", "/lead")),
        (b"/bucket/%C3%BC%F0%9F%98%80", ("bucket", "ü😀")),
    ],
)
def test_split_path(raw: bytes, expected: tuple[str, str]) -> None:
    assert split_path(raw) == expected


def test_split_path_refuses_invalid_utf8() -> None:
    with pytest.raises(InvalidArgument):
        split_path(b"/bucket/%FF")


def test_query_parsing() -> None:
    query = Query.parse(b"uploads&prefix=a%2Bb&max-keys=5&x-id=PutObject")
    assert "uploads" in query and query.get("uploads") == ""
    assert query.get("prefix") == "a+b"
    assert query.integer("max-keys", 1000, 0, 1000) == 5
    assert Query.parse(b"max-keys=5000").integer("max-keys", 1000, 0, 1000) == 1000
    with pytest.raises(InvalidArgument):
        Query.parse(b"max-keys=-1").integer("max-keys", 1000, 0, 1000)


@given(TEXT)
def test_url_encoding_round_trips_through_botocores_decoder(value: str) -> None:
    assert unquote_plus(url_encode(value)) == value


@given(TEXT)
def test_continuation_tokens_round_trip(value: str) -> None:
    assert decode_token(encode_token(value)) == value


@pytest.mark.parametrize("token", ["not base64!", "aGVsbG8=", ""])
def test_bad_continuation_tokens(token: str) -> None:
    with pytest.raises(InvalidArgument, match="continuation token"):
        decode_token(token)


@pytest.mark.parametrize(
    ("method", "path", "query", "name"),
    [
        ("GET", "/", "", "list_buckets"),
        ("GET", "/b", "list-type=2&prefix=x", "list_objects_v2"),
        ("GET", "/b", "", "list_objects_v1"),
        ("GET", "/b", "location", "get_bucket_location"),
        ("POST", "/b", "delete", "delete_objects"),
        ("PUT", "/b/k", "x-id=PutObject", "_put_or_copy"),
        ("PUT", "/b/k", "partNumber=1&uploadId=u", "upload_part"),
        ("POST", "/b/k", "uploads", "create_multipart_upload"),
        ("POST", "/b/k", "uploadId=u", "complete_multipart_upload"),
        ("DELETE", "/b/k", "uploadId=u", "abort_multipart_upload"),
        ("GET", "/b/k", "uploadId=u", "list_parts"),
        ("GET", "/b", "uploads", "list_multipart_uploads"),
        ("GET", "/b/k", "versionId=null", "get_object"),
    ],
)
def test_routing(method: str, path: str, query: str, name: str) -> None:
    bucket, key = split_path(path.encode())
    assert choose_handler(method, bucket, key, Query.parse(query.encode())).__name__ == name


@pytest.mark.parametrize(
    ("method", "path", "query", "named"),
    [
        ("GET", "/b", "acl", "acl"),
        ("PUT", "/b/k", "tagging", "tagging"),
        ("GET", "/b", "versioning", "versioning"),
        ("GET", "/b/k", "versionId=3", "versionId"),
        ("PUT", "/b/k", "uploads", "uploads"),
        ("POST", "/b", "", "POST"),
    ],
)
def test_unsupported_requests_are_named(method: str, path: str, query: str, named: str) -> None:
    bucket, key = split_path(path.encode())
    with pytest.raises(S3NotImplemented, match=named):
        choose_handler(method, bucket, key, Query.parse(query.encode()))


@pytest.mark.parametrize(("method", "path"), [("PATCH", "/b/k"), ("HEAD", "/"), ("PUT", "/")])
def test_methods_no_operation_uses_are_not_allowed(method: str, path: str) -> None:
    bucket, key = split_path(path.encode())
    with pytest.raises(MethodNotAllowed, match=method):
        choose_handler(method, bucket, key, Query.parse(b""))
