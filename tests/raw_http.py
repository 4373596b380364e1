"""Raw HTTP requests to a test server, SigV4-signed with the test credentials as botocore signs them.

For what boto3 will not send: bodies over a limit, hostile paths and headers, chunked
transfer, fuzzed JSON. Signing uses botocore's own SigV4Auth / S3SigV4Auth.
"""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from botocore.auth import S3SigV4Auth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.support import REGION, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

CREDENTIALS = Credentials(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY)
JSON_CONTENT_TYPE = "application/x-amz-json-1.1"


@dataclass(frozen=True)
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


def signed_headers(
    endpoint_url: str,
    method: str,
    path: str,
    service: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers of a request signed for ``service``; ``path`` is sent as is (quote it yourself)."""
    request = AWSRequest(method=method, url=endpoint_url + path, data=body, headers=dict(headers or {}))
    if service == "s3":
        S3SigV4Auth(CREDENTIALS, "s3", REGION).add_auth(request)
    else:
        SigV4Auth(CREDENTIALS, service, REGION).add_auth(request)
    return {name: str(value) for name, value in request.headers.items()}


def send(
    endpoint_url: str,
    method: str,
    path: str,
    service: str,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Answer:
    """Sign and send one request; the answer is read whole (a hang fails on ``timeout``)."""
    signed = signed_headers(endpoint_url, method, path, service, body, headers)
    location = urlsplit(endpoint_url)
    connection = http.client.HTTPConnection(location.hostname, location.port, timeout=timeout)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for name, value in {"Host": location.netloc, **signed}.items():
            connection.putheader(name, value)
        if body or method in ("POST", "PUT"):
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body or None)
        response = connection.getresponse()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
    finally:
        connection.close()


def json_call(endpoint_url: str, target: str, body: bytes, service: str = "sagemaker") -> Answer:
    headers = {"X-Amz-Target": target, "Content-Type": JSON_CONTENT_TYPE}
    return send(endpoint_url, "POST", "/", service, body, headers)


class OpenRequest:
    """A request whose headers are sent and whose body is sent later, in pieces."""

    def __init__(self, endpoint_url: str, method: str, path: str, headers: Mapping[str, str]) -> None:
        location = urlsplit(endpoint_url)
        self._socket = socket.create_connection((location.hostname, location.port), timeout=30)
        lines = [f"{method} {path} HTTP/1.1", f"Host: {location.netloc}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._socket.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        self._file = self._socket.makefile("rb")

    def read_interim(self) -> int:
        """The status of an interim answer (100 Continue), once the server has read the headers."""
        status = int(self._file.readline().split()[1])
        while self._file.readline() not in (b"\r\n", b""):
            pass
        return status

    def send_body(self, pieces: Iterable[bytes]) -> None:
        for piece in pieces:
            self._socket.sendall(piece)

    def answer(self) -> Answer:
        response = http.client.HTTPResponse(self._socket)
        response.begin()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())

    def close(self) -> None:
        self._file.close()
        self._socket.close()


def chunked(body: bytes, size: int = 64 * 1024) -> Iterable[bytes]:
    """``body`` in HTTP/1.1 chunked transfer encoding."""
    for start in range(0, len(body), size):
        piece = body[start : start + size]
        yield f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"
