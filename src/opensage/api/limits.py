"""Request limits in front of every API: requests in flight, and body sizes per API.

A pure ASGI wrapper (no framework middleware: it sits on InvokeEndpoint's hot path). Past
``max_in_flight`` concurrent requests it answers at once, in the protocol's own shape —
ThrottlingException ("Rate exceeded", 400) for the JSON and runtime APIs, SlowDown (503)
for S3, both of which botocore retries with backoff — instead of queueing without bound.

A body over its API's limit is refused from its Content-Length before any of it is read;
a body sent without one (chunked transfer) is counted as it arrives, and the request is
answered and cut off the moment it passes the limit. The adapters keep their own checks.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from enum import Enum
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import Response

from opensage.api import json_protocol
from opensage.api.runtime import runtime_route
from opensage.api.s3 import body as s3_body
from opensage.api.s3.responses import RequestIds
from opensage.api.s3.responses import error_response as s3_error_response
from opensage.errors import (
    EntityTooLarge,
    InvalidParameterError,
    InvocationValidationError,
    MaxMessageLengthExceeded,
    OpenSageError,
    RequestTooLargeError,
    SlowDown,
    ThrottlingError,
)
from opensage.services.hosting.invocation import MAX_PAYLOAD_BYTES

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

# S3 takes at most 5 GiB in one PutObject or UploadPart.
MAX_OBJECT_BYTES = 5 * 1024**3
# PutLogEvents takes 1 MiB of events; botocore escapes non-ASCII text as \uXXXX, up to 3x.
MAX_LOGS_BODY_BYTES = 4 * 1024 * 1024
# Bodies nothing reads (GET, HEAD, DELETE, InvokeEndpointAsync, /health): small but not zero.
MAX_OTHER_BODY_BYTES = 64 * 1024
# Subresources whose PUT body is an XML document, not object bytes.
_XML_SUBRESOURCES = frozenset({"tagging", "acl", "retention", "legal-hold", "encryption", "versioning"})
_SIGNED_SERVICE = re.compile(rb"/[0-9]{8}/[^/]+/([^/]+)/aws4_request")
_RATE_EXCEEDED = "Rate exceeded"


class Protocol(Enum):
    JSON = "json"
    RUNTIME = "runtime"
    S3 = "s3"


@dataclass(frozen=True)
class BodyLimit:
    limit: int
    error: type[OpenSageError]
    what: str


class RequestLimits:
    """``app`` behind the request limits; ``max_in_flight`` 0 means no concurrency limit."""

    def __init__(self, app: App, max_in_flight: int) -> None:
        self._app = app
        self._max_in_flight = max_in_flight
        # One event loop serves every request, so a plain integer is exact: it only changes
        # between awaits, and no lock is ever held across one.
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self._app(scope, receive, send)
            return
        if self._max_in_flight and self.in_flight >= self._max_in_flight:
            headers = scope["headers"]
            await _refuse(scope, headers, _throttled(protocol_of(scope, headers)), receive, send)
            return
        self.in_flight += 1
        try:
            await self._serve(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _serve(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = scope["headers"]
        declared = decoded = None
        streamed = False
        for name, value in headers:
            if name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                streamed = True
            elif name == b"x-amz-decoded-content-length":
                decoded = value  # aws-chunked: the body carries a signature line per chunk
        if declared is None and not streamed:
            await self._app(scope, receive, send)  # HTTP/1.1: no length, no chunks, no body
            return
        if declared is not None and len(declared) <= 4 and declared.isdigit():
            await self._app(scope, receive, send)  # under 10 KB fits every limit: InvokeEndpoint's fast path
            return
        body_limit = body_limit_of(scope, headers)
        allowance = body_limit.limit if decoded is None else _framed_allowance(body_limit.limit)
        for size, most in ((declared, allowance), (decoded, body_limit.limit)):
            if size is not None and size.isdigit() and int(size) > most:
                error = body_limit.error(
                    f"The {body_limit.what} of {int(size)} bytes is larger than the "
                    f"{body_limit.limit} bytes this operation accepts"
                )
                await _refuse(scope, headers, error, receive, send)
                return
        if declared is not None and not streamed:
            # The server reads no more than Content-Length says.
            await self._app(scope, receive, send)
            return
        await _CountedRequest(self._app, scope, body_limit, allowance).run(receive, send)


class _CountedRequest:
    """A body sent in chunks, of no declared length: counted as it arrives, cut off past the limit."""

    def __init__(self, app: App, scope: Scope, body_limit: BodyLimit, allowance: int) -> None:
        self._app = app
        self._scope = scope
        self._limit = body_limit
        self._allowance = allowance
        self._received = 0
        self._started = False
        self._answered = False

    async def run(self, receive: Receive, send: Send) -> None:
        async def counted_receive() -> Message:
            message = await receive()
            if message["type"] != "http.request" or self._answered:
                return message
            self._received += len(message.get("body", b""))
            if self._received <= self._allowance:
                return message
            if not self._started:
                error = self._limit.error(
                    f"The {self._limit.what} is larger than the {self._limit.limit} bytes this operation accepts"
                )
                await _refuse(self._scope, self._scope["headers"], error, receive, send)
            self._answered = True
            # To the app the client has gone: it aborts whatever it was writing, and stores nothing.
            return {"type": "http.disconnect"}

        async def guarded_send(message: Message) -> None:
            if self._answered:
                return  # the client has its answer already
            if message["type"] == "http.response.start":
                self._started = True
            await send(message)

        await self._app(self._scope, counted_receive, guarded_send)


def _framed_allowance(limit: int) -> int:
    # aws-chunked signature lines: ~90 bytes per chunk of 8 KiB or more (the decoded length,
    # declared in x-amz-decoded-content-length, is held to the exact limit).
    return limit + limit // 64 + 8192


def protocol_of(scope: Scope, headers: list[tuple[bytes, bytes]]) -> Protocol:
    signed_for: bytes | None = None
    for name, value in headers:
        if name == b"x-amz-target":
            return Protocol.JSON
        if name == b"authorization":
            match = _SIGNED_SERVICE.search(value)
            signed_for = match.group(1) if match else None
    if signed_for in (None, b"sagemaker") and runtime_route(scope["path"]) is not None:
        return Protocol.RUNTIME
    return Protocol.S3 if signed_for in (None, b"s3") else Protocol.JSON


def body_limit_of(scope: Scope, headers: list[tuple[bytes, bytes]]) -> BodyLimit:
    """The most body bytes the request's API takes, and the error it answers beyond them."""
    protocol = protocol_of(scope, headers)
    if protocol is Protocol.JSON:
        target = next((value for name, value in headers if name == b"x-amz-target"), b"")
        if target.startswith(b"Logs_"):
            return BodyLimit(MAX_LOGS_BODY_BYTES, InvalidParameterError, "request body")
        return BodyLimit(json_protocol.MAX_BODY_BYTES, RequestTooLargeError, "request body")
    if protocol is Protocol.RUNTIME:
        route = runtime_route(scope["path"])
        if route is not None and route[1] == "async-invocations":
            return BodyLimit(MAX_OTHER_BODY_BYTES, _RuntimeTooLarge, "request body")
        return BodyLimit(MAX_PAYLOAD_BYTES, _RuntimeTooLarge, "request body")
    return _s3_body_limit(scope)


class _RuntimeTooLarge(InvocationValidationError):
    http_status = 413


def _s3_body_limit(scope: Scope) -> BodyLimit:
    method = scope["method"]
    path = scope["path"].lstrip("/")
    has_key = "/" in path and bool(path.split("/", 1)[1])
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if method == "PUT" and has_key and not _XML_SUBRESOURCES.intersection(query):
        return BodyLimit(MAX_OBJECT_BYTES, EntityTooLarge, "object body")
    if method in ("PUT", "POST"):
        return BodyLimit(s3_body.MAX_XML_BODY, MaxMessageLengthExceeded, "request body")
    return BodyLimit(MAX_OTHER_BODY_BYTES, MaxMessageLengthExceeded, "request body")


def _throttled(protocol: Protocol) -> OpenSageError:
    return (
        SlowDown("Please reduce your request rate.")
        if protocol is Protocol.S3
        else ThrottlingError(_RATE_EXCEEDED)
    )


async def _refuse(
    scope: Scope, headers: list[tuple[bytes, bytes]], error: OpenSageError, receive: Receive, send: Send
) -> None:
    protocol = protocol_of(scope, headers)
    response: Response
    if protocol is Protocol.S3:
        ids = RequestIds.new()
        resource = (scope.get("raw_path") or scope["path"].encode()).decode("latin-1")
        response = ids.apply(s3_error_response(error, resource, ids, scope["method"] == "HEAD"))
    elif protocol is Protocol.RUNTIME:
        code = "ValidationError" if isinstance(error, InvocationValidationError) else error.code
        response = Response(
            json.dumps({"message": error.message}),
            status_code=error.http_status,
            media_type="application/json",
            headers={"x-amzn-ErrorType": code, "x-amzn-RequestId": str(uuid.uuid4())},
        )
    else:
        response = json_protocol.error_response(error, str(uuid.uuid4()))
    # Unread bodies are not drained: the server closes a connection whose request it did not read.
    response.headers["connection"] = "close"
    await response(scope, receive, send)
