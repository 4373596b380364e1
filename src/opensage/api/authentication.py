"""The outermost ASGI layer: every AWS-protocol request is verified before anything handles it.

``GET /health`` stays open. Anything else must carry a valid SigV4 signature (header or
presigned URL) by an active access key, or it is answered here, in its protocol's error
shape, and never reaches a handler. A verified request gets its ``Principal`` and a
``CallRecord`` in the scope.

Bodies: the JSON services' canonical request hashes the body, so their (small) bodies are
read here and replayed to the app. S3 bodies stream: a body signed with a hex
``x-amz-content-sha256`` is hashed as it passes, and a mismatch raises from ``receive`` at
its last byte, so the handler fails before the object store commits anything. A signed
aws-chunked body (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``) gets its seed signature,
timestamp, scope and signing key in the scope (``ChunkSigning``), for the S3 body decoder
to check every chunk's signature with, again before anything is committed.
"""

from __future__ import annotations

import hashlib
import logging
import uuid

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from opensage.api.runtime import runtime_route
from opensage.api.s3.responses import RequestIds
from opensage.api.s3.responses import error_response as s3_error_response
from opensage.errors import (
    AuthenticationError,
    MissingAuthenticationError,
    OpenSageError,
    S3Error,
    SignatureExpiredError,
    SignatureMismatchError,
    ValidationError,
    XAmzContentSHA256Mismatch,
)
from opensage.security.chunk_signatures import CHUNK_SIGNING_SCOPE_KEY
from opensage.security.keys import AccessKeys, open_access_keys
from opensage.security.principal import CALL_SCOPE_KEY, PRINCIPAL_SCOPE_KEY, CallRecord, Principal
from opensage.security.sigv4 import SigV4Verifier, WireRequest, credential_service, join_headers
from opensage.settings import Settings
from opensage.store import ResourceRepository

logger = logging.getLogger(__name__)

# The JSON services' bodies are read whole to be hashed; InvokeEndpoint's 6 MB is the largest.
MAX_HASHED_BODY = 32 << 20
NO_AUTH_PRINCIPAL = Principal("none", "no-auth", "arn:aws:iam::000000000000:user/no-auth", unrestricted=True)
_QUERY_SERVICES = frozenset({"sts", "iam"})
_TARGET_SERVICES = {"SageMaker": "sagemaker", "Logs_20140328": "logs", "TrentService": "kms"}


class _BodyTooLarge(ValidationError):
    pass


class Authentication:
    """Wraps ``app``; ``keys`` None means ``--no-auth``: every request is the unrestricted identity."""

    def __init__(self, app: ASGIApp, keys: AccessKeys | None) -> None:
        self._app = app
        self._keys = keys
        self._verifier = SigV4Verifier(keys.lookup) if keys is not None else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or (scope["path"] == "/health" and scope["method"] in ("GET", "HEAD")):
            await self._app(scope, receive, send)
            return
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        request = WireRequest(
            method=scope["method"],
            raw_path=raw_path.decode("latin-1"),
            query_string=scope.get("query_string", b"").decode("latin-1"),
            headers=join_headers(scope["headers"]),
        )
        service = _service(scope, request)
        call = CallRecord(str(uuid.uuid4()), service, _client_address(scope))
        # In the scope before verifying: a refused request is audited with the id its client sees.
        scope[CALL_SCOPE_KEY] = call
        try:
            if self._verifier is None:
                principal = NO_AUTH_PRINCIPAL
            else:
                body: bytes | None = None
                if service != "s3":
                    body = await _read_all(receive)
                    receive = _replay(body)
                verified = self._verifier.verify(request, body)
                if verified.payload_sha256 is not None:
                    if body is None:
                        receive = _hashing(receive, verified.payload_sha256)
                    elif hashlib.sha256(body).hexdigest() != verified.payload_sha256:
                        raise XAmzContentSHA256Mismatch(_SHA256_MISMATCH)
                if verified.chunk_signing is not None:
                    scope[CHUNK_SIGNING_SCOPE_KEY] = verified.chunk_signing
                principal = verified.principal
        except OpenSageError as error:
            call.error_code = _wire_code(error, service)
            await _refuse(error, request, service, call.request_id)(scope, receive, send)
            return
        call.principal = principal
        scope[PRINCIPAL_SCOPE_KEY] = principal
        scope[CALL_SCOPE_KEY] = call
        await self._app(scope, receive, send)


# S3 words some failures its own way.
_S3_MESSAGES: dict[type[AuthenticationError], str] = {
    MissingAuthenticationError: "Access Denied",
    SignatureMismatchError: (
        "The request signature we calculated does not match the signature you provided. "
        "Check your key and signing method."
    ),
    SignatureExpiredError: "The difference between the request time and the current time is too large.",
}
_SHA256_MISMATCH = "The provided 'x-amz-content-sha256' header does not match what was computed."


def _service(scope: Scope, request: WireRequest) -> str:
    """The API the request is for: X-Amz-Target, the runtime's paths, else the signature's scope."""
    target = request.headers.get("x-amz-target")
    if target is not None:
        prefix = target.split(".", 1)[0]
        return _TARGET_SERVICES.get(prefix, credential_service(request) or prefix.lower())
    if runtime_route(scope["path"]) is not None:
        signed_for = credential_service(request)
        if signed_for in (None, "sagemaker"):
            return "sagemaker-runtime"
    return credential_service(request) or "s3"


def _client_address(scope: Scope) -> str | None:
    client = scope.get("client")
    return str(client[0]) if client else None


async def _read_all(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_HASHED_BODY:
            raise _BodyTooLarge(
                f"The request body is larger than the {MAX_HASHED_BODY} bytes this API accepts"
            )
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        # After the body, what a server sends next: the client is gone once the reply is done.
        return {"type": "http.disconnect"}

    return receive


def _hashing(receive: Receive, expected: str) -> Receive:
    digest = hashlib.sha256()

    async def hashed() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            digest.update(message.get("body", b""))
            if not message.get("more_body") and digest.hexdigest() != expected:
                raise XAmzContentSHA256Mismatch(_SHA256_MISMATCH)
        return message

    return hashed


def _refuse(error: OpenSageError, request: WireRequest, service: str, request_id: str) -> Response:
    logger.info("refused %s %s for %s: %s", request.method, request.raw_path[:200], service, error.code)
    if service == "s3":
        return _s3_refusal(error, request, request_id)
    if service in _QUERY_SERVICES:
        return _query_refusal(error, request_id)
    return _json_refusal(error, request_id)


def _wire_code(error: OpenSageError, service: str) -> str:
    """The error code a refused client is sent, in its protocol's spelling."""
    if not isinstance(error, AuthenticationError):
        return error.code
    if service == "s3":
        return error.s3_code
    return error.query_code if service in _QUERY_SERVICES else error.code


def _s3_refusal(error: OpenSageError, request: WireRequest, request_id: str) -> Response:
    if isinstance(error, AuthenticationError):
        error = _S3Refusal(error.s3_code, _S3_MESSAGES.get(type(error), error.message), error.http_status)
    ids = RequestIds.new(request_id)
    response = ids.apply(s3_error_response(error, request.raw_path, ids, request.method == "HEAD"))
    # Refused before its body was read (S3 bodies stream): the connection cannot carry another request.
    response.headers["connection"] = "close"
    return response


def _json_refusal(error: OpenSageError, request_id: str) -> Response:
    import json

    body = json.dumps({"__type": error.code, "message": error.message})
    headers = {"x-amzn-RequestId": request_id, "x-amzn-ErrorType": error.code}
    return Response(
        body, status_code=error.http_status, headers=headers, media_type="application/x-amz-json-1.1"
    )


def _query_refusal(error: OpenSageError, request_id: str) -> Response:
    from xml.sax.saxutils import escape

    code = error.query_code if isinstance(error, AuthenticationError) else error.code
    body = (
        f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
        f"<Message>{escape(error.message)}</Message></Error>"
        f"<RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return Response(body, status_code=error.http_status, media_type="text/xml")


class _S3Refusal(S3Error):
    """An authentication failure under S3's name for it."""

    def __init__(self, code: str, message: str, http_status: int) -> None:
        super().__init__(message)
        self.code = code
        self.http_status = http_status


def with_authentication(app: ASGIApp, settings: Settings, repository: ResourceRepository) -> ASGIApp:
    """``app`` behind verification; a new home gets its admin key (and ``<home>/credentials``) here."""
    if settings.no_auth:
        logger.warning("authentication is OFF (--no-auth): every request is accepted as unrestricted")
        return Authentication(app, None)
    keys = open_access_keys(repository, settings.home, settings.account_id)
    keys.ensure_admin(settings.home, settings.admin_access_key_id, settings.admin_secret_access_key)
    return Authentication(app, keys)
