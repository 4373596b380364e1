"""InvokeEndpoint: pick a variant and an instance, forward the request, answer as SageMaker does.

Traffic splits across variants by weight (or goes to TargetVariant); within a variant,
instances take turns. A model that answers with an error becomes ModelError (424) carrying
its status and message; a serverless variant past MaxConcurrency answers ThrottlingException;
a serverless variant at zero starts an instance first (a cold start).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from opensage.errors import (
    InvocationValidationError,
    ModelInvocationError,
    ServiceUnavailableError,
    ThrottlingError,
)
from opensage.executor.forwarding import ForwardingError, Header
from opensage.runtime.serving.app import ERROR_KIND_HEADER
from opensage.services.hosting.capture import CaptureEvent, CaptureWriter
from opensage.services.hosting.fleet import Fleet, Instance, LiveEndpoint, LiveVariant
from opensage.services.hosting.models import EndpointStatus

# SageMaker's limits for a real-time invocation.
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024
TIMEOUT_SECONDS = 60.0
# How long a request waits for a crashed instance to be replaced before giving up.
RESTART_WAIT_SECONDS = 15.0
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@dataclass(frozen=True)
class Invocation:
    endpoint: str
    body: bytes
    content_type: str | None = None
    accept: str | None = None
    custom_attributes: str | None = None
    target_variant: str | None = None
    target_model: str | None = None
    inference_id: str | None = None


@dataclass(frozen=True)
class InvocationResult:
    body: bytes
    content_type: str
    variant: str
    custom_attributes: str | None = None


class InvocationService:
    def __init__(
        self,
        fleet: Fleet,
        capture: CaptureWriter,
        endpoint_status: Callable[[str], EndpointStatus | None],
        account_id: str,
    ) -> None:
        self._fleet = fleet
        self._capture = capture
        self._endpoint_status = endpoint_status
        self._account_id = account_id

    async def invoke(
        self, request: Invocation, max_payload: int = MAX_PAYLOAD_BYTES, timeout: float = TIMEOUT_SECONDS
    ) -> InvocationResult:
        if len(request.body) > max_payload:
            raise InvocationValidationError(
                f"Request body of {len(request.body)} bytes is larger than the {max_payload} bytes "
                "InvokeEndpoint accepts; use batch transform or InvokeEndpointAsync"
            )
        live = self._fleet.get(request.endpoint) or await self._wait_for_endpoint(request.endpoint)
        variant = self._choose_variant(live, request.target_variant)
        instance = await self._acquire(variant)
        try:
            response = await instance.pool.request(
                "POST", "/invocations", self._headers(request), request.body, timeout
            )
        except TimeoutError as exc:
            raise ModelInvocationError(
                f"Your invocation timed out while waiting for a response from variant {variant.name} "
                f"(limit {timeout:.0f} s)",
                0,
                "timed out",
            ) from exc
        except ForwardingError as exc:
            raise ModelInvocationError(
                f"Received no response from the model in variant {variant.name}: {exc}", 0, str(exc)
            ) from exc
        finally:
            variant.release()
        content_type = (response.header(b"content-type") or b"").decode("latin-1")
        if response.status != 200:
            self._raise_model_error(
                request, variant, response.status, response.body, response.header(ERROR_KIND_HEADER)
            )
        if self._capture.sampled(live.capture) and live.capture is not None:
            self._capture.add(
                CaptureEvent(
                    endpoint=request.endpoint,
                    variant=variant.name,
                    spec=live.capture,
                    request_body=request.body,
                    request_type=request.content_type or DEFAULT_CONTENT_TYPE,
                    response_body=response.body,
                    response_type=content_type,
                    time=datetime.now(UTC),
                    inference_id=request.inference_id,
                )
            )
        return InvocationResult(response.body, content_type, variant.name, request.custom_attributes)

    async def _wait_for_endpoint(self, name: str) -> LiveEndpoint:
        """An endpoint the store says serves but the fleet is still starting (after a restart)."""
        status = self._endpoint_status(name)
        if status is None:
            raise InvocationValidationError(f"Endpoint {name} of account {self._account_id} not found.")
        if not status.accepts_traffic():
            raise InvocationValidationError(
                f"Endpoint {name} of account {self._account_id} is {status.value}; it accepts requests when InService"
            )
        deadline = asyncio.get_running_loop().time() + RESTART_WAIT_SECONDS
        while asyncio.get_running_loop().time() < deadline:
            live = self._fleet.get(name)
            if live is not None:
                return live
            await asyncio.sleep(0.05)
        raise ServiceUnavailableError(f"Endpoint {name} is starting its model servers; try again shortly")

    @staticmethod
    def _choose_variant(live: LiveEndpoint, target: str | None) -> LiveVariant:
        if target is not None:
            variant = live.variants.get(target)
            if variant is None:
                raise InvocationValidationError(
                    f"The endpoint {live.name} has no variant {target}; its variants are {', '.join(live.variants)}"
                )
            return variant
        variants = list(live.variants.values())
        if len(variants) == 1 and variants[0].weight > 0:
            return variants[0]
        weights = [max(variant.weight, 0.0) for variant in variants]
        if not any(weights):
            raise InvocationValidationError(
                f"Every variant of endpoint {live.name} has weight 0; name one with TargetVariant"
            )
        return random.choices(variants, weights)[0]

    async def _acquire(self, variant: LiveVariant) -> Instance:
        if variant.serverless is not None:
            if variant.in_flight >= variant.serverless.max_concurrency:
                raise ThrottlingError(
                    f"Rate exceeded: serverless variant {variant.name} is at its MaxConcurrency "
                    f"of {variant.serverless.max_concurrency} concurrent invocations"
                )
            instance = variant.acquire()
            if instance is None:
                await asyncio.get_running_loop().run_in_executor(None, self._fleet.cold_start, variant)
                instance = variant.acquire()
            if instance is not None:
                return instance
        deadline = asyncio.get_running_loop().time() + RESTART_WAIT_SECONDS
        while True:
            instance = variant.acquire()
            if instance is not None:
                return instance
            if asyncio.get_running_loop().time() > deadline:
                raise ServiceUnavailableError(
                    f"No instance of variant {variant.name} is running; it is being restarted"
                )
            await asyncio.sleep(0.05)

    @staticmethod
    def _headers(request: Invocation) -> list[Header]:
        headers: list[Header] = [
            (b"content-type", (request.content_type or DEFAULT_CONTENT_TYPE).encode("latin-1"))
        ]
        if request.accept:
            headers.append((b"accept", request.accept.encode("latin-1")))
        if request.target_model:
            headers.append((b"x-amzn-sagemaker-target-model", request.target_model.encode("utf-8")))
        if request.custom_attributes:
            headers.append(
                (b"x-amzn-sagemaker-custom-attributes", request.custom_attributes.encode("latin-1"))
            )
        if request.inference_id:
            headers.append((b"x-amzn-sagemaker-inference-id", request.inference_id.encode("latin-1")))
        return headers

    @staticmethod
    def _raise_model_error(
        request: Invocation, variant: LiveVariant, status: int, body: bytes, kind: bytes | None
    ) -> None:
        message = body.decode("utf-8", errors="replace")
        if kind == b"TargetModelNotFound":
            raise InvocationValidationError(message)
        raise ModelInvocationError(
            f'Received client error ({status}) from primary with message "{message}". See the model server '
            f"log of endpoint {request.endpoint}, variant {variant.name}."
            if 400 <= status < 500
            else f'Received server error ({status}) from primary with message "{message}".',
            status,
            message,
        )
