"""The AWS JSON 1.1 protocol: ``POST /`` with ``X-Amz-Target: <prefix>.<Operation>``.

SageMaker and CloudWatch Logs both speak it. An adapter is a table of operation handlers;
this module reads and validates the request against botocore's model, runs the handler in a
worker thread (services are synchronous), and renders the result or the error the way
botocore expects: ``{"__type": code, "message": ...}`` with ``x-amzn-RequestId``.
"""

from __future__ import annotations

import base64
import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import Enum
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from opensage.api.validation import RequestValidator, validator_for
from opensage.errors import (
    InternalError,
    OpenSageError,
    SerializationError,
    UnsupportedOperationError,
    ValidationError,
)
from opensage.security.actions import json_accesses
from opensage.security.authorizer import Authorizer
from opensage.security.principal import CallRecord, call_of

logger = logging.getLogger(__name__)

JsonHandler = Callable[[dict[str, Any]], dict[str, Any]]

CONTENT_TYPE = "application/x-amz-json-1.1"
# PipelineDefinition, the largest JSON member SageMaker accepts, is 1 MB; leave room around it.
MAX_BODY_BYTES = 8 * 1024 * 1024


def to_wire(value: Any) -> Any:
    """Python values to JSON-protocol values: timestamps as epoch seconds, blobs as base64."""
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    return value


def json_response(body: Mapping[str, Any], request_id: str, status: int = 200) -> Response:
    payload = json.dumps(to_wire(dict(body)), separators=(",", ":"))
    return Response(
        payload, status_code=status, media_type=CONTENT_TYPE, headers={"x-amzn-RequestId": request_id}
    )


def error_response(error: OpenSageError, request_id: str, call: CallRecord | None = None) -> Response:
    if call is not None:
        call.error_code = error.code
    body = {"__type": error.code, "message": error.message}
    return json_response(body, request_id, status=error.http_status)


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The whole body, refusing (before reading it all) anything over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise ValidationError(f"Request body of {declared} bytes exceeds the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise ValidationError(f"Request body exceeds the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


class JsonProtocolAdapter:
    """Serves one JSON 1.1 service from a table of ``operation name -> handler``."""

    def __init__(
        self,
        service_name: str,
        target_prefix: str,
        handlers: Mapping[str, JsonHandler],
        authorizer: Authorizer | None = None,
    ) -> None:
        self.service_name = service_name
        self.target_prefix = target_prefix
        self.handlers = dict(handlers)
        self.authorizer = authorizer

    @property
    def validator(self) -> RequestValidator:
        return validator_for(self.service_name)

    async def handle(self, request: Request) -> Response:
        call = call_of(request.scope)
        # The id the client sees is the one the audit trail records.
        request_id = call.request_id if call is not None else str(uuid.uuid4())
        try:
            operation = self._operation(request)
            handler = self.handlers.get(operation)
            if handler is None:
                raise self._unsupported(operation)
            raw = await read_limited_body(request, MAX_BODY_BYTES)
            params = self._parse(raw)
            validated = self.validator.validate(operation, params)
            result = await run_in_threadpool(self._authorized_call, request, operation, handler, validated)
            return json_response(result, request_id)
        except OpenSageError as error:
            return error_response(error, request_id, call)
        except Exception:
            logger.exception("%s request %s failed", self.service_name, request_id)
            internal = InternalError(
                f"An internal error occurred; request id {request_id} is in the server log"
            )
            return error_response(internal, request_id, call)

    def _authorized_call(
        self, request: Request, operation: str, handler: JsonHandler, params: dict[str, Any]
    ) -> dict[str, Any]:
        """The handler's answer, once the caller's policies allow the call (in the worker thread:
        a policy cache miss reads the database)."""
        if self.authorizer is not None:
            accesses = json_accesses(self.authorizer.arns, self.service_name, operation, params)
            self.authorizer.authorize(request.scope, operation, accesses)
        return handler(params)

    def _operation(self, request: Request) -> str:
        target = request.headers.get("x-amz-target", "")
        # boto3 may send the model's full prefix (com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101).
        prefix, _, operation = target.rpartition(".")
        if prefix.rsplit(".", 1)[-1] != self.target_prefix or not operation:
            raise ValidationError(f"X-Amz-Target must look like {self.target_prefix}.<Operation>")
        return operation

    def _unsupported(self, operation: str) -> OpenSageError:
        if self.validator.operation(operation) is None:
            return UnsupportedOperationError(f"{operation} is not an operation of {self.service_name}")
        return UnsupportedOperationError(
            f"opensage does not implement {self.target_prefix}.{operation} yet; "
            f"see the README for the operations that work today"
        )

    @staticmethod
    def _parse(raw: bytes) -> Any:
        if not raw.strip():
            return {}
        try:
            return json.loads(raw)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise SerializationError("The request body is not valid JSON") from exc
