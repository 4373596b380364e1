"""The sagemaker-runtime API (rest-json): InvokeEndpoint and InvokeEndpointAsync.

A bare ASGI handler, not a framework route: every invocation passes through it, and the
platform should add about a millisecond over calling the model in-process (DESIGN.md).
Errors are rest-json: the code in ``x-amzn-ErrorType`` and a JSON body; ModelError also
carries OriginalStatusCode and OriginalMessage, as botocore reads them.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import unquote

from opensage.errors import (
    AccessDeniedError,
    InternalError,
    InvocationValidationError,
    ModelInvocationError,
    OpenSageError,
    UnsupportedOperationError,
    ValidationError,
)
from opensage.security.actions import runtime_accesses
from opensage.security.authorizer import Authorizer
from opensage.security.principal import CallRecord, call_of
from opensage.services.hosting.async_invocation import AsyncInvocation, AsyncInvocationService
from opensage.services.hosting.invocation import MAX_PAYLOAD_BYTES, Invocation, InvocationService

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

_OPERATIONS = {
    "invocations": "InvokeEndpoint",
    "async-invocations": "InvokeEndpointAsync",
    "invocations-response-stream": "InvokeEndpointWithResponseStream",
}
_ROUTE = re.compile(r"^/endpoints/([^/]+)/(invocations|async-invocations|invocations-response-stream)$")


def runtime_route(path: str) -> tuple[str, str] | None:
    """(endpoint name, action) when ``path`` is a runtime API path."""
    match = _ROUTE.match(path)
    return (unquote(match.group(1)), match.group(2)) if match else None


class _BodyTooLarge(InvocationValidationError):
    pass


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _BodyTooLarge(
                f"Request body is larger than the {limit} bytes InvokeEndpoint accepts; "
                "use batch transform or InvokeEndpointAsync"
            )
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _header(headers: dict[bytes, bytes], name: bytes) -> str | None:
    value = headers.get(name)
    return value.decode("latin-1") if value is not None else None


class RuntimeAdapter:
    def __init__(
        self,
        invocations: InvocationService,
        asynchronous: AsyncInvocationService,
        authorizer: Authorizer | None = None,
    ) -> None:
        self._invocations = invocations
        self._asynchronous = asynchronous
        self._authorizer = authorizer
        # Request ids: unique per server run and cheap (uuid4 reads the system's random source each call).
        self._run_id = uuid.uuid4().hex[:12]
        self._sequence = itertools.count(1)

    async def __call__(self, scope: Scope, receive: Receive, send: Send, route: tuple[str, str]) -> None:
        call = call_of(scope)
        # The id the client sees is the one the audit trail records.
        request_id = call.request_id if call is not None else f"{self._run_id}-{next(self._sequence):08x}"
        endpoint, action = route
        headers = dict(scope["headers"])
        try:
            if scope["method"] != "POST":
                raise InvocationValidationError(
                    f"{scope['method']} is not allowed: the runtime API takes POST"
                )
            if self._authorizer is not None:
                # On the event loop: the policies are cached, and a miss is one small read a second.
                operation = _OPERATIONS[action]
                accesses = runtime_accesses(self._authorizer.arns, operation, endpoint)
                self._authorizer.authorize(scope, operation, accesses)
            if action == "invocations":
                await self._invoke(endpoint, headers, receive, send, request_id)
            elif action == "async-invocations":
                await self._invoke_async(endpoint, headers, send, request_id)
            else:
                raise UnsupportedOperationError(
                    "InvokeEndpointWithResponseStream is not supported by opensage yet; use InvokeEndpoint"
                )
        except OpenSageError as error:
            await self._error(send, error, request_id, call)
        except Exception:
            logger.exception("runtime request %s failed", request_id)
            internal = InternalError(f"An internal error occurred; request id {request_id}")
            await self._error(send, internal, request_id, call)

    async def _invoke(
        self, endpoint: str, headers: dict[bytes, bytes], receive: Receive, send: Send, request_id: str
    ) -> None:
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > MAX_PAYLOAD_BYTES:
            raise _BodyTooLarge(
                f"Request body of {int(declared)} bytes is larger than the {MAX_PAYLOAD_BYTES} bytes "
                "InvokeEndpoint accepts; use batch transform or InvokeEndpointAsync"
            )
        body = await _read_body(receive, MAX_PAYLOAD_BYTES)
        result = await self._invocations.invoke(
            Invocation(
                endpoint=endpoint,
                body=body,
                content_type=_header(headers, b"content-type"),
                accept=_header(headers, b"accept"),
                custom_attributes=_header(headers, b"x-amzn-sagemaker-custom-attributes"),
                target_variant=_header(headers, b"x-amzn-sagemaker-target-variant"),
                target_model=_header(headers, b"x-amzn-sagemaker-target-model"),
                inference_id=_header(headers, b"x-amzn-sagemaker-inference-id"),
            )
        )
        response_headers = [
            (b"content-type", result.content_type.encode("latin-1")),
            (b"content-length", str(len(result.body)).encode()),
            (b"x-amzn-invoked-production-variant", result.variant.encode("latin-1")),
            (b"x-amzn-requestid", request_id.encode()),
        ]
        if result.custom_attributes:
            response_headers.append(
                (b"x-amzn-sagemaker-custom-attributes", result.custom_attributes.encode("latin-1"))
            )
        await send({"type": "http.response.start", "status": 200, "headers": response_headers})
        await send({"type": "http.response.body", "body": result.body})

    async def _invoke_async(
        self, endpoint: str, headers: dict[bytes, bytes], send: Send, request_id: str
    ) -> None:
        input_location = _header(headers, b"x-amzn-sagemaker-inputlocation")
        if not input_location:
            raise InvocationValidationError(
                "InvokeEndpointAsync needs InputLocation (the S3 URI of the request)"
            )
        accepted = await self._asynchronous.submit(
            AsyncInvocation(
                endpoint=endpoint,
                input_location=input_location,
                content_type=_header(headers, b"x-amzn-sagemaker-content-type"),
                accept=_header(headers, b"x-amzn-sagemaker-accept"),
                custom_attributes=_header(headers, b"x-amzn-sagemaker-custom-attributes"),
                inference_id=_header(headers, b"x-amzn-sagemaker-inference-id"),
            )
        )
        body = json.dumps({"InferenceId": accepted.inference_id}).encode()
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-amzn-sagemaker-outputlocation", accepted.output_location.encode()),
            (b"x-amzn-requestid", request_id.encode()),
        ]
        if accepted.failure_location:
            response_headers.append((b"x-amzn-sagemaker-failurelocation", accepted.failure_location.encode()))
        await send({"type": "http.response.start", "status": 202, "headers": response_headers})
        await send({"type": "http.response.body", "body": body})

    @staticmethod
    async def _error(send: Send, error: OpenSageError, request_id: str, call: CallRecord | None) -> None:
        code = error.code
        if isinstance(error, ValidationError) and code == "ValidationException":
            code = "ValidationError"  # the runtime API's own spelling
        if call is not None:
            call.error_code = code
        payload: dict[str, Any] = {"message": error.message}
        if isinstance(error, ModelInvocationError):
            payload = {
                "Message": error.message,
                "OriginalStatusCode": error.original_status_code,
                "OriginalMessage": error.original_message,
            }
        body = json.dumps(payload).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"x-amzn-errortype", code.encode()),
            (b"x-amzn-requestid", request_id.encode()),
        ]
        if isinstance(error, AccessDeniedError):
            # Refused before its body was read: the connection cannot carry another request.
            headers.append((b"connection", b"close"))
        await send({"type": "http.response.start", "status": error.http_status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
