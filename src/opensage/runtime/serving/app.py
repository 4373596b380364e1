"""The model server's ASGI app: ``GET /ping`` and ``POST /invocations``, as SageMaker's serving contract.

Written as a bare ASGI callable rather than on a framework: it sits on the hot path of
every InvokeEndpoint, and routing two fixed paths needs no router. Predictions run on the
event-loop thread — one process is one instance, and a model server does one thing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from opensage.algorithms.base import Predictor
from opensage.errors import InferenceError
from opensage.runtime.serving.multimodel import ModelCache, TargetModelNotFound

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

TARGET_MODEL_HEADER = b"x-amzn-sagemaker-target-model"
# Tells the platform a 404 means "no such TargetModel", not an error inside the model.
ERROR_KIND_HEADER = b"x-opensage-error"


async def _body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _answer(
    send: Send, status: int, body: bytes, content_type: bytes, extra: list[tuple[bytes, bytes]]
) -> None:
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode()), *extra]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class ModelServerApp:
    def __init__(self, predictor: Predictor | None, models: ModelCache | None) -> None:
        self._predictor = predictor
        self._models = models

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == "/ping" and method in ("GET", "HEAD"):
            await _answer(send, 200, b"", b"text/plain", [])
        elif path == "/invocations" and method == "POST":
            await self._invoke(scope, receive, send)
        elif path == "/models" and method == "GET" and self._models is not None:
            # The multi-model container contract's ListModels: what is loaded, least recent first.
            listed = json.dumps({"models": [{"modelName": name} for name in self._models.loaded()]})
            await _answer(send, 200, listed.encode(), b"application/json", [])
        else:
            await _answer(
                send,
                404,
                b"Not found: the model server serves GET /ping and POST /invocations",
                b"text/plain",
                [],
            )

    async def _invoke(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await _body(receive)
        headers = dict(scope["headers"])
        content_type = headers.get(b"content-type")
        accept = headers.get(b"accept")
        try:
            predictor = self._choose(headers.get(TARGET_MODEL_HEADER))
            prediction = predictor.predict(
                body,
                content_type.decode("latin-1") if content_type else None,
                accept.decode("latin-1") if accept else None,
            )
        except TargetModelNotFound as error:
            await _answer(
                send,
                404,
                error.message.encode(),
                b"text/plain",
                [(ERROR_KIND_HEADER, b"TargetModelNotFound")],
            )
            return
        except InferenceError as error:
            await _answer(send, error.status_code, error.message.encode(), b"text/plain", [])
            return
        except Exception as error:
            logger.exception("prediction failed")
            await _answer(send, 500, f"{type(error).__name__}: {error}".encode(), b"text/plain", [])
            return
        await _answer(send, 200, prediction.body, prediction.content_type.encode("latin-1"), [])

    def _choose(self, target: bytes | None) -> Predictor:
        if self._models is not None:
            if not target:
                raise InferenceError(400, "This is a multi-model endpoint: name the model with TargetModel")
            return self._models.get(target.decode("utf-8", errors="replace"))
        if self._predictor is None:
            raise InferenceError(500, "The model server has no model loaded")
        return self._predictor

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
