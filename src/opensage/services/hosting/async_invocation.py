"""InvokeEndpointAsync: the request is an S3 object, the answer is written to S3 when it is ready.

The call returns 202 at once with where the output will appear; the invocation runs in the
background on the same variants and instances as InvokeEndpoint, with the limits SageMaker
gives asynchronous inference (1 GB payloads, up to an hour). A failure is written to the
S3FailurePath (``<id>-error.out``) when one is configured.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from opensage.errors import InvocationValidationError, NoSuchBucket, NoSuchKey, OpenSageError
from opensage.naming import parse_s3_uri
from opensage.objects.base import ObjectStore, WriteOptions
from opensage.services.hosting.invocation import Invocation, InvocationService
from opensage.services.hosting.models import AsyncSpec

logger = logging.getLogger(__name__)

MAX_ASYNC_PAYLOAD_BYTES = 1024 * 1024 * 1024
ASYNC_TIMEOUT_SECONDS = 3600.0


@dataclass(frozen=True)
class AsyncInvocation:
    endpoint: str
    input_location: str
    content_type: str | None = None
    accept: str | None = None
    custom_attributes: str | None = None
    inference_id: str | None = None


@dataclass(frozen=True)
class AsyncAccepted:
    inference_id: str
    output_location: str
    failure_location: str | None


class AsyncInvocationService:
    def __init__(
        self,
        invocations: InvocationService,
        objects: ObjectStore,
        async_config_of: Callable[[str], AsyncSpec | None],
    ) -> None:
        self._invocations = invocations
        self._objects = objects
        self._async_config_of = async_config_of
        self._running: set[asyncio.Task[None]] = set()

    async def submit(self, request: AsyncInvocation) -> AsyncAccepted:
        loop = asyncio.get_running_loop()
        spec = await loop.run_in_executor(None, self._async_config_of, request.endpoint)
        if spec is None:
            raise InvocationValidationError(
                f"Endpoint {request.endpoint} is not set up for asynchronous inference: its endpoint "
                "configuration has no AsyncInferenceConfig"
            )
        source = parse_s3_uri(request.input_location, "InputLocation")
        try:
            await loop.run_in_executor(None, self._objects.head_object, source.bucket, source.key)
        except (NoSuchBucket, NoSuchKey) as exc:
            raise InvocationValidationError(f"The input {request.input_location} does not exist") from exc
        inference_id = request.inference_id or str(uuid.uuid4())
        output = str(parse_s3_uri(spec.output_path).join(f"{inference_id}.out"))
        failure = (
            str(parse_s3_uri(spec.failure_path).join(f"{inference_id}-error.out"))
            if spec.failure_path
            else None
        )
        task = asyncio.create_task(self._run(request, inference_id, output, failure))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return AsyncAccepted(inference_id, output, failure)

    async def _run(
        self, request: AsyncInvocation, inference_id: str, output: str, failure: str | None
    ) -> None:
        loop = asyncio.get_running_loop()
        source = parse_s3_uri(request.input_location)
        try:
            body = await loop.run_in_executor(None, self._objects.get_bytes, source.bucket, source.key)
            result = await self._invocations.invoke(
                Invocation(
                    endpoint=request.endpoint,
                    body=body,
                    content_type=request.content_type,
                    accept=request.accept,
                    custom_attributes=request.custom_attributes,
                    inference_id=inference_id,
                ),
                max_payload=MAX_ASYNC_PAYLOAD_BYTES,
                timeout=ASYNC_TIMEOUT_SECONDS,
            )
            await loop.run_in_executor(None, self._write, output, result.body, result.content_type)
        except OpenSageError as error:
            logger.info("asynchronous inference %s on %s failed: %s", inference_id, request.endpoint, error)
            if failure is not None:
                await loop.run_in_executor(None, self._write, failure, error.message.encode(), "text/plain")
        except Exception:
            logger.exception("asynchronous inference %s on %s failed", inference_id, request.endpoint)
            if failure is not None:
                await loop.run_in_executor(None, self._write, failure, b"internal error", "text/plain")

    def _write(self, uri: str, body: bytes, content_type: str) -> None:
        location = parse_s3_uri(uri)
        self._objects.put_bytes(location.bucket, location.key, body, WriteOptions(content_type=content_type))
