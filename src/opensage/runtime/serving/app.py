"""What the model server answers: ``GET /ping``, ``POST /invocations`` and, for multi-model, ``GET /models``.

This is the SageMaker serving contract as a plain function of the request, free of any HTTP
machinery, so the server in ``http.py`` stays a thin loop and the logic stays testable.
Predictions run on the calling thread: one process is one instance, and does one thing.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from opensage.algorithms.base import Predictor
from opensage.errors import InferenceError
from opensage.runtime.serving.multimodel import ModelCache, TargetModelNotFound

logger = logging.getLogger(__name__)

TARGET_MODEL_HEADER = b"x-amzn-sagemaker-target-model"
# Tells the platform a 404 means "no such TargetModel", not an error inside the model.
ERROR_KIND_HEADER = b"x-opensage-error"


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: bytes = b"text/plain"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)


_NOT_FOUND = Answer(404, b"Not found: the model server serves GET /ping and POST /invocations")
_PONG = Answer(200, b"")


class ModelServerApp:
    def __init__(self, predictor: Predictor | None, models: ModelCache | None) -> None:
        self._predictor = predictor
        self._models = models

    def handle(self, method: bytes, path: bytes, headers: dict[bytes, bytes], body: bytes) -> Answer:
        if path == b"/invocations" and method == b"POST":
            return self._invoke(headers, body)
        if path == b"/ping" and method in (b"GET", b"HEAD"):
            return _PONG
        if path == b"/models" and method == b"GET" and self._models is not None:
            # The multi-model container contract's ListModels: what is loaded, least recent first.
            listed = {"models": [{"modelName": name} for name in self._models.loaded()]}
            return Answer(200, json.dumps(listed).encode(), b"application/json")
        return _NOT_FOUND

    def _invoke(self, headers: dict[bytes, bytes], body: bytes) -> Answer:
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
            return Answer(404, error.message.encode(), headers=[(ERROR_KIND_HEADER, b"TargetModelNotFound")])
        except InferenceError as error:
            return Answer(error.status_code, error.message.encode())
        except Exception as error:
            logger.exception("prediction failed")
            return Answer(500, f"{type(error).__name__}: {error}".encode())
        return Answer(200, prediction.body, prediction.content_type.encode("latin-1"))

    def _choose(self, target: bytes | None) -> Predictor:
        if self._models is not None:
            if not target:
                raise InferenceError(400, "This is a multi-model endpoint: name the model with TargetModel")
            return self._models.get(target.decode("utf-8", errors="replace"))
        if self._predictor is None:
            raise InferenceError(500, "The model server has no model loaded")
        return self._predictor
