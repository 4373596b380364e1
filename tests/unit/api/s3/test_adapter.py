"""S3Adapter in-process: it never raises, and every answer is an S3 response with request ids."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import anyio
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.requests import Request
from starlette.types import Message

from opensage.api.s3 import S3Adapter
from opensage.objects.local_objects import LocalObjectStore

METHODS = ["GET", "HEAD", "PUT", "POST", "DELETE", "PATCH"]


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]
    content: bytes


class Client:
    """Calls S3Adapter.handle with an ASGI scope and plays the response, without a network."""

    def __init__(self, store: Any) -> None:
        self.adapter = S3Adapter(store, "us-east-1")

    def request(
        self, method: str, url: str, headers: dict[str, str] | None = None, content: bytes = b""
    ) -> Answer:
        return anyio.run(self._request, method, url, headers or {}, content)

    def get(self, url: str) -> Answer:
        return self.request("GET", url)

    def head(self, url: str) -> Answer:
        return self.request("HEAD", url)

    async def _request(self, method: str, url: str, headers: dict[str, str], content: bytes) -> Answer:
        path, _, query = url.partition("?")
        scope = {
            "type": "http",
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "server": ("127.0.0.1", 9000),
            "path": unquote(path),
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "headers": [
                (k.lower().encode(), v.encode()) for k, v in {**headers, "host": "localhost"}.items()
            ],
        }
        sent: list[Message] = []
        delivered = False

        async def receive() -> Message:
            nonlocal delivered
            if delivered:  # the client stays connected until the response is done
                await anyio.sleep_forever()
            delivered = True
            return {"type": "http.request", "body": content, "more_body": False}

        async def send(message: Message) -> None:
            sent.append(message)

        response = await self.adapter.handle(Request(scope, receive))
        await response(scope, receive, send)
        start = sent[0]
        body = b"".join(m.get("body", b"") for m in sent[1:])
        answer_headers = {k.decode(): v.decode() for k, v in start["headers"]}
        return Answer(start["status"], answer_headers, body if method != "HEAD" else b"")


@pytest.fixture()
def client(tmp_path: Path) -> Iterator[Client]:
    store = LocalObjectStore(tmp_path / "objects")
    store.create_bucket("bucket", "us-east-1")
    store.put_bytes("bucket", "key", b"0123456789")
    yield Client(store)
    store.close()


class BrokenStore:
    def __getattr__(self, name: str) -> Any:
        def fail(*args: object, **kwargs: object) -> None:
            raise RuntimeError("disk on fire")

        return fail


def test_unexpected_errors_are_logged_500_internal_error(caplog: pytest.LogCaptureFixture) -> None:
    broken = Client(BrokenStore())
    with caplog.at_level(logging.ERROR):
        response = broken.get("/bucket/key")
        head = broken.head("/bucket/key")
    assert response.status_code == 500
    assert b"<Code>InternalError</Code>" in response.content and b"disk on fire" not in response.content
    assert (head.status_code, head.content) == (500, b"")
    assert "disk on fire" in caplog.text


def test_head_object_reports_the_length_without_a_body(client: Client) -> None:
    response = client.head("/bucket/key")
    assert response.status_code == 200
    assert (response.headers["content-length"], response.content) == ("10", b"")
    assert response.headers["etag"] == '"781e5e245d69b566979b86e28d23f2c7"'
    assert response.headers["last-modified"].endswith(" GMT")


def test_response_overrides_on_get(client: Client) -> None:
    response = client.get("/bucket/key?response-content-type=text/csv&response-cache-control=max-age%3D5")
    assert (response.headers["content-type"], response.headers["cache-control"]) == ("text/csv", "max-age=5")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    method=st.sampled_from(METHODS),
    path=st.sampled_from(
        ["/", "/bucket", "/bucket/key", "/bucket/new", "/nobucket/k", "/Bad_Name", "/bucket/%FF"]
    ),
    query=st.lists(
        st.sampled_from(
            [
                "uploads",
                "uploadId=x",
                "partNumber=1",
                "delete",
                "location",
                "list-type=2",
                "list-type=1",
                "acl",
                "max-keys=abc",
                "continuation-token=%%%",
                "encoding-type=xml",
                "versionId=7",
                "prefix=%F0",
            ]
        ),
        max_size=3,
    ),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "range",
                "if-match",
                "content-md5",
                "x-amz-checksum-crc32",
                "x-amz-copy-source",
                "x-amz-checksum-crc64nvme",
                "content-encoding",
            ]
        ),
        st.sampled_from(
            ["bytes=3-1", "bytes=99-", '"x"', "bogus", "AAAAAA==", "bucket/key", "bucket/%FF", "aws-chunked"]
        ),
    ),
    body=st.sampled_from([b"", b"<Delete/>", b"<bad", b"5\r\nabc"]),
)
def test_any_request_gets_an_s3_answer(
    client: Client, method: str, path: str, query: list[str], headers: dict[str, str], body: bytes
) -> None:
    url = path + ("?" + "&".join(query) if query else "")
    response = client.request(method, url, headers=headers, content=body)
    assert response.status_code in {200, 204, 206, 304, 400, 404, 405, 409, 412, 416, 501}
    assert response.headers["x-amz-request-id"] and response.headers["x-amz-id-2"]
    if response.status_code >= 400 and method != "HEAD":
        assert b"<Error><Code>" in response.content


def test_copy_source_that_is_not_utf8_is_invalid_argument(client: Client) -> None:
    response = client.request("PUT", "/bucket/new", headers={"x-amz-copy-source": "bucket/%FF"})
    assert response.status_code == 400 and b"<Code>InvalidArgument</Code>" in response.content
