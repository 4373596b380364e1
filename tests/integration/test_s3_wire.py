"""S3 on the wire, below boto3: aws-chunked bodies, Expect: 100-continue, path decoding, error shapes."""

from __future__ import annotations

import base64
import socket
import uuid
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import google_crc32c
import pytest
from tests.support import sign_s3_headers, signed_aws_chunked


@pytest.fixture()
def bucket(s3_client: Any) -> Iterator[str]:
    name = f"s3-wire-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    yield name
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3_client.delete_object(Bucket=name, Key=item["Key"])
    s3_client.delete_bucket(Bucket=name)


class Wire:
    """A raw HTTP/1.1 connection, to send exactly the bytes a test wants."""

    def __init__(self, endpoint_url: str) -> None:
        parts = urlsplit(endpoint_url)
        self.sock = socket.create_connection((parts.hostname, parts.port), timeout=10)
        self.reader = self.sock.makefile("rb")

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self) -> tuple[int, dict[str, str], bytes]:
        status = int(self.reader.readline().split()[1])
        headers: dict[str, str] = {}
        while (line := self.reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self.reader.read(int(headers.get("content-length", "0"))) if status >= 200 else b""
        return status, headers, body

    def close(self) -> None:
        self.reader.close()
        self.sock.close()


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    """The request line and headers, signed by the test key as every S3 request must be."""
    return head_bytes(method, path, sign_s3_headers(method, path, headers, "localhost"))


def head_bytes(method: str, path: str, signed: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", *(f"{k}: {v}" for k, v in signed.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def aws_chunked(payload: bytes, chunk: int, trailer: str | None) -> bytes:
    """An unsigned aws-chunked body (STREAMING-UNSIGNED-PAYLOAD-TRAILER)."""
    out = b""
    for start in range(0, len(payload), chunk):
        piece = payload[start : start + chunk]
        out += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    out += b"0\r\n"
    if trailer is not None:
        out += f"x-amz-checksum-crc32:{trailer}\r\n".encode()
    return out + b"\r\n"


def crc32_b64(data: bytes) -> str:
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def put_raw(
    endpoint_url: str, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, str], bytes]:
    wire = Wire(endpoint_url)
    try:
        wire.send(request_head("PUT", path, {**headers, "Content-Length": str(len(body))}) + body)
        return wire.response()
    finally:
        wire.close()


def put_signed_chunked(
    endpoint_url: str, path: str, headers: dict[str, str], payload: bytes, chunk: int, trailer: list[str]
) -> tuple[int, dict[str, str], bytes]:
    """A PUT whose aws-chunked body is signed chunk by chunk, chained from the request's signature."""
    length = len(signed_aws_chunked(payload, chunk, None, trailer))
    signed = sign_s3_headers("PUT", path, {**headers, "Content-Length": str(length)}, "localhost")
    wire = Wire(endpoint_url)
    try:
        wire.send(head_bytes("PUT", path, signed) + signed_aws_chunked(payload, chunk, signed, trailer))
        return wire.response()
    finally:
        wire.close()


def error_code(body: bytes) -> str:
    return ET.fromstring(body).findtext("Code") or ""


@pytest.mark.parametrize("signed", [False, True])
def test_aws_chunked_body_with_checksum_trailer(
    server: Any, s3_client: Any, bucket: str, signed: bool
) -> None:
    payload = b"streamed body " * 5000
    headers = {
        "Content-Encoding": "aws-chunked,gzip" if signed else "aws-chunked",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
        if signed
        else "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-decoded-content-length": str(len(payload)),
        "x-amz-trailer": "x-amz-checksum-crc32",
        "x-amz-sdk-checksum-algorithm": "CRC32",
    }
    path = f"/{bucket}/chunked"
    if signed:
        trailer = [f"x-amz-checksum-crc32:{crc32_b64(payload)}"]
        status, response_headers, _ = put_signed_chunked(
            server.endpoint_url, path, headers, payload, 8192, trailer
        )
    else:
        body = aws_chunked(payload, 8192, crc32_b64(payload))
        status, response_headers, _ = put_raw(server.endpoint_url, path, headers, body)
    assert status == 200 and response_headers["x-amz-checksum-crc32"] == crc32_b64(payload)
    got = s3_client.get_object(Bucket=bucket, Key="chunked", ChecksumMode="ENABLED")
    assert got["Body"].read() == payload
    assert got.get("ContentEncoding") == ("gzip" if signed else None)


def test_aws_chunked_body_with_a_wrong_trailer_is_not_stored(
    server: Any, s3_client: Any, bucket: str
) -> None:
    payload = b"x" * 1000
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "x-amz-trailer": "x-amz-checksum-crc32",
    }
    status, _, body = put_raw(
        server.endpoint_url, f"/{bucket}/bad", headers, aws_chunked(payload, 300, crc32_b64(b"other"))
    )
    assert (status, error_code(body)) == (400, "BadDigest")
    assert s3_client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


def test_expect_100_continue(server: Any, s3_client: Any, bucket: str) -> None:
    body = b"sent after 100 Continue"
    wire = Wire(server.endpoint_url)
    try:
        wire.send(
            request_head(
                "PUT", f"/{bucket}/expect", {"Expect": "100-continue", "Content-Length": str(len(body))}
            )
        )
        assert wire.response()[0] == 100
        wire.send(body)
        status, headers, _ = wire.response()
        assert status == 200 and headers["etag"]
    finally:
        wire.close()
    assert s3_client.get_object(Bucket=bucket, Key="expect")["Body"].read() == body


def test_expect_100_continue_refused_before_the_body_is_sent(server: Any) -> None:
    wire = Wire(server.endpoint_url)
    try:
        wire.send(
            request_head("PUT", "/no-such-bucket-x/key", {"Expect": "100-continue", "Content-Length": "1000"})
        )
        status, headers, body = wire.response()
    finally:
        wire.close()
    assert (status, error_code(body)) == (404, "NoSuchBucket")
    assert headers["x-amz-request-id"] and headers["x-amz-id-2"]


def test_path_decoding_keeps_plus_and_decodes_percent_escapes(
    server: Any, s3_client: Any, bucket: str
) -> None:
    assert put_raw(server.endpoint_url, f"/{bucket}/a+b%20c%2Fd%25e", {}, b"raw")[0] == 200
    assert s3_client.get_object(Bucket=bucket, Key="a+b c/d%e")["Body"].read() == b"raw"


def test_error_document_shape_and_bare_head_errors(server: Any, bucket: str) -> None:
    wire = Wire(server.endpoint_url)
    try:
        wire.send(request_head("GET", f"/{bucket}/missing%20key", {}))
        status, headers, body = wire.response()
        wire.send(request_head("HEAD", f"/{bucket}/missing", {}))
        head_status, head_headers, head_body = wire.response()
    finally:
        wire.close()
    error = ET.fromstring(body)
    assert status == 404 and error.tag == "Error"
    assert [child.tag for child in error] == ["Code", "Message", "Resource", "RequestId", "HostId"]
    assert (
        error.findtext("Code") == "NoSuchKey" and error.findtext("RequestId") == headers["x-amz-request-id"]
    )
    assert (head_status, head_body, head_headers["content-length"]) == (404, b"", "0")
    assert head_headers["x-amz-request-id"]


def test_xml_bodies_with_a_doctype_are_refused(server: Any, bucket: str) -> None:
    evil = (
        b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><Delete><Object><Key>&e;</Key></Object></Delete>'
    )
    wire = Wire(server.endpoint_url)
    try:
        wire.send(request_head("POST", f"/{bucket}?delete", {"Content-Length": str(len(evil))}) + evil)
        status, _, body = wire.response()
    finally:
        wire.close()
    assert (status, error_code(body)) == (400, "MalformedXML")


def test_successful_responses_carry_request_ids_and_namespace(server: Any, bucket: str) -> None:
    wire = Wire(server.endpoint_url)
    try:
        wire.send(request_head("GET", f"/{bucket}?list-type=2", {}))
        status, headers, body = wire.response()
    finally:
        wire.close()
    assert status == 200 and headers["x-amz-request-id"] and headers["x-amz-id-2"]
    assert ET.fromstring(body).tag == "{http://s3.amazonaws.com/doc/2006-03-01/}ListBucketResult"


def test_crc32c_header_is_verified_and_kept(server: Any, s3_client: Any, bucket: str) -> None:
    body = b"hello world"
    good = base64.b64encode(google_crc32c.value(body).to_bytes(4, "big")).decode()
    assert good == "yZRlqg=="
    status, headers, _ = put_raw(server.endpoint_url, f"/{bucket}/c", {"x-amz-checksum-crc32c": good}, body)
    assert status == 200 and headers["x-amz-checksum-crc32c"] == good
    status, _, error = put_raw(
        server.endpoint_url, f"/{bucket}/d", {"x-amz-checksum-crc32c": "AAAAAA=="}, body
    )
    assert (status, error_code(error)) == (400, "BadDigest")
    status, _, error = put_raw(
        server.endpoint_url, f"/{bucket}/e", {"x-amz-checksum-crc64nvme": "AAAAAAAAAAA="}, body
    )
    assert (status, error_code(error)) == (501, "NotImplemented")
    assert [c["Key"] for c in s3_client.list_objects_v2(Bucket=bucket)["Contents"]] == ["c"]


def test_a_method_no_s3_operation_uses_is_405(server: Any) -> None:
    import urllib.error
    import urllib.request

    host = urlsplit(server.endpoint_url).netloc
    request = urllib.request.Request(
        f"{server.endpoint_url}/some-bucket/some-key",
        method="PATCH",
        headers=sign_s3_headers("PATCH", "/some-bucket/some-key", {}, host),
    )
    try:
        urllib.request.urlopen(request, timeout=5)
    except urllib.error.HTTPError as error:
        assert error.code == 405
        assert b"<Code>MethodNotAllowed</Code>" in error.read()
    else:
        raise AssertionError("PATCH on an object must be refused")
