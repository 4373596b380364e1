"""Multi-model serving: a model per TargetModel archive, loaded on first use, least recently used evicted."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

from opensage.algorithms.base import Predictor
from opensage.errors import InferenceError
from opensage.objects import open_object_store
from opensage.runtime.serving.artifacts import ArtifactError, fetch_model
from opensage.runtime.serving.containers import load_container
from opensage.runtime.serving.spec import ContainerSpec, MultiModelSpec


class TargetModelNotFound(InferenceError):
    """The TargetModel names no archive under the model's ModelDataUrl."""

    def __init__(self, message: str) -> None:
        super().__init__(404, message)


class ModelCache:
    def __init__(self, spec: MultiModelSpec, container: ContainerSpec) -> None:
        self._spec = spec
        self._container = container
        self._store = open_object_store(spec.objects_url)
        self._loaded: OrderedDict[str, Predictor] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, target: str) -> Predictor:
        with self._lock:
            found = self._loaded.get(target)
            if found is not None:
                self._loaded.move_to_end(target)
                return found
        predictor = self._load(target)
        with self._lock:
            self._loaded[target] = predictor
            self._loaded.move_to_end(target)
            while len(self._loaded) > self._spec.max_models:
                self._loaded.popitem(last=False)
        return predictor

    def loaded(self) -> list[str]:
        with self._lock:
            return list(self._loaded)

    def _load(self, target: str) -> Predictor:
        if not target or target.startswith("/") or ".." in Path(target).parts:
            raise InferenceError(
                400, f"TargetModel '{target}' must be a relative path under the model's ModelDataUrl"
            )
        uri = f"s3://{self._spec.bucket}/{self._spec.prefix}{target}"
        try:
            folder = fetch_model(self._store, uri, Path(self._spec.cache_dir))
        except ArtifactError as exc:
            raise TargetModelNotFound(f"Could not find TargetModel '{target}': {exc}") from exc
        return load_container(self._container, folder)
