"""The ASGI wrapper that writes every AWS-protocol call to the audit trail once it is answered.

It sits outside the protocol adapters (and outside authentication, so refused requests are
recorded too). The request's ``CallRecord`` is created by the authentication layer; when
none is in the scope yet this wrapper makes one (principal unknown). After the response it
reads the record again (the adapters fill in the operation, resources and error code),
fills what is still missing from the request line alone (operation and resources of S3
and runtime calls, the operation named by ``X-Amz-Target``), and hands the finished event
to the trail's queue. It reads no body, no query value but the credential's key id, and
no header but the ones naming the service, the credential and the error type.
"""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opensage.api.runtime import runtime_route
from opensage.security.audit import AuditEvent, AuditTrailWriter
from opensage.security.principal import CALL_SCOPE_KEY, CallRecord, call_of

# Access key id, date, region, service of a SigV4 credential (the secret is never in it).
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/[^/,\s]+/([^/,\s]+)/aws4_request")
# Signing names of the JSON services, for requests that carry X-Amz-Target but no signature.
_TARGET_SERVICES = {"SageMaker": "sagemaker", "Logs_20140328": "logs", "CloudTrail_20131101": "cloudtrail"}
_RUNTIME_OPERATIONS = {
    "invocations": "InvokeEndpoint",
    "async-invocations": "InvokeEndpointAsync",
    "invocations-response-stream": "InvokeEndpointWithResponseStream",
}
RUNTIME_SERVICE = "sagemaker-runtime"


class AuditRecorder:
    """Wraps the app; records one audit event per HTTP request except ``/health``."""

    def __init__(self, app: ASGIApp, trail: AuditTrailWriter, region: str, account_id: str) -> None:
        self.app = app
        self.trail = trail
        self.region = region
        self.account_id = account_id
        self._request_ids = _IdSequence()
        self._event_ids = _IdSequence()

    def new_request_id(self) -> str:
        return self._request_ids.next()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] == "/health":
            await self.app(scope, receive, send)
            return
        started = datetime.now(UTC)
        claimed_key, signed_service = _credential(scope)
        route = runtime_route(scope["path"])
        if call_of(scope) is None:
            client = scope.get("client")
            scope[CALL_SCOPE_KEY] = CallRecord(
                request_id=self.new_request_id(),
                service=_service_of(scope, signed_service, route),
                source_address=client[0] if client else None,
            )
        answered: dict[str, Any] = {"status": 500, "error_type": None}

        async def watching_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                answered["status"] = message["status"]
                if message["status"] >= 400:
                    answered["error_type"] = _error_type(message.get("headers", ()))
            await send(message)

        try:
            await self.app(scope, receive, watching_send)
        finally:
            call = call_of(scope)
            if call is not None:
                self._complete(call, scope, route, answered["error_type"], answered["status"])
                event = AuditEvent.from_call(
                    call, started, answered["status"], claimed_key, self._event_ids.next()
                )
                self.trail.record(event)

    def _complete(
        self,
        call: CallRecord,
        scope: Scope,
        route: tuple[str, str] | None,
        error_type: str | None,
        status: int,
    ) -> None:
        """Fill in what the adapters did not: the operation, resources and error code."""
        if call.operation is None:
            call.operation = self._operation(call, scope, route)
        if not call.resources:
            call.resources = self._resources(call, scope, route)
        if call.error_code is None and status >= 400:
            call.error_code = error_type or ("InternalFailure" if status >= 500 else None)

    def _operation(self, call: CallRecord, scope: Scope, route: tuple[str, str] | None) -> str | None:
        target = _header(scope, b"x-amz-target")
        if target:
            return target.rpartition(".")[2] or None
        if route is not None and call.service in (RUNTIME_SERVICE, "sagemaker"):
            return _RUNTIME_OPERATIONS.get(route[1])
        if call.service == "s3":
            return s3_operation(scope)
        return None

    def _resources(self, call: CallRecord, scope: Scope, route: tuple[str, str] | None) -> list[str]:
        if _header(scope, b"x-amz-target"):
            return []  # JSON services name their resources in the body, which only the adapter reads
        if route is not None and call.service in (RUNTIME_SERVICE, "sagemaker"):
            return [f"arn:aws:sagemaker:{self.region}:{self.account_id}:endpoint/{route[0].lower()}"]
        if call.service == "s3":
            bucket, _, key = scope["path"].lstrip("/").partition("/")
            if bucket:
                return [f"arn:aws:s3:::{bucket}/{key}" if key else f"arn:aws:s3:::{bucket}"]
        return []


class _IdSequence:
    """Ids shaped like uuids, unique per server run, without reading the random source each time."""

    def __init__(self) -> None:
        run = uuid.uuid4().hex
        self._prefix = f"{run[:8]}-{run[8:12]}-{run[12:16]}-{run[16:20]}-"
        self._numbers = itertools.count(1)

    def next(self) -> str:
        return f"{self._prefix}{next(self._numbers):012x}"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _error_type(headers: Any) -> str | None:
    for key, value in headers:
        if bytes(key).lower() == b"x-amzn-errortype":
            # rest-json may append ":<uri>" to the code.
            return bytes(value).decode("latin-1").split(":", 1)[0] or None
    return None


def _credential(scope: Scope) -> tuple[str | None, str | None]:
    """(access key id, signing name) the request claims, from its Authorization header or presigned URL."""
    text = _header(scope, b"authorization")
    if text is None:
        query = scope.get("query_string", b"")
        if b"X-Amz-Credential" not in query:
            return None, None
        text = "Credential=" + dict(parse_qsl(query.decode("latin-1"))).get("X-Amz-Credential", "")
    match = _CREDENTIAL.search(text)
    return (match.group(1), match.group(2)) if match else (None, None)


def _service_of(scope: Scope, signed_service: str | None, route: tuple[str, str] | None) -> str:
    target = _header(scope, b"x-amz-target")
    if target:
        prefix = target.rpartition(".")[0].rsplit(".", 1)[-1]
        return signed_service or _TARGET_SERVICES.get(prefix, prefix.lower() or "unknown")
    if route is not None and signed_service in (None, "sagemaker"):
        return RUNTIME_SERVICE
    return signed_service or "s3"


def s3_operation(scope: Scope) -> str | None:
    """The S3 operation a request is, from its method, path level and sub-resources."""
    method: str = scope["method"]
    bucket, _, key = unquote(scope["path"]).lstrip("/").partition("/")
    names = {
        name
        for name, _ in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    }
    copying = _header(scope, b"x-amz-copy-source") is not None
    if not bucket:
        return "ListBuckets" if method == "GET" else None
    if not key:
        return _bucket_operation(method, names)
    if "uploadId" in names:
        by_method = {"GET": "ListParts", "DELETE": "AbortMultipartUpload", "POST": "CompleteMultipartUpload"}
        if method == "PUT":
            return "UploadPartCopy" if copying else "UploadPart"
        return by_method.get(method)
    if method == "PUT":
        return "CopyObject" if copying else "PutObject"
    if method == "POST" and "uploads" in names:
        return "CreateMultipartUpload"
    return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method)


def _bucket_operation(method: str, names: set[str]) -> str | None:
    if method == "GET":
        for name, operation in (
            ("location", "GetBucketLocation"),
            ("uploads", "ListMultipartUploads"),
            ("list-type", "ListObjectsV2"),
        ):
            if name in names:
                return operation
        return "ListObjects"
    if method == "POST" and "delete" in names:
        return "DeleteObjects"
    return {"PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method)
