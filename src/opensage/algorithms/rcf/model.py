"""A trained Random Cut Forest answering ``/invocations``: one ``score`` per row, on SageMaker's scale."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from opensage.algorithms.aialgs.serving import Features, Model
from opensage.algorithms.rcf.forest import Forest, score_rows
from opensage.errors import InferenceError
from opensage.formats.responses import OutputField

MODEL_FILE = "rcf-model.npz"


class RCFModel(Model):
    response_key = "scores"

    def __init__(self, forest: Forest) -> None:
        self.forest = forest

    @property
    def feature_dim(self) -> int:
        return self.forest.feature_dim

    def predict(self, features: Features, accept_parameters: Mapping[str, str]) -> list[OutputField]:
        # Trees cut dense boxes, so a sparse row is expanded; the same row scores the same bits
        # whatever the request type.
        dense = features if isinstance(features, np.ndarray) else features.toarray()
        scores = score_rows(self.forest, np.asarray(dense, dtype=np.float32)).score
        return [OutputField("score", scores.astype(np.float32))]


def save_model(forest: Forest, model_dir: Path) -> None:
    model_dir.mkdir(parents=True, exist_ok=True)
    np.savez(model_dir / MODEL_FILE, allow_pickle=False, **forest.arrays())


def load_model(model_dir: Path) -> RCFModel:
    path = model_dir / MODEL_FILE
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return RCFModel(Forest.from_arrays(dict(arrays)))
    except (OSError, KeyError, ValueError, TypeError) as exc:
        raise InferenceError(500, f"Cannot load the Random Cut Forest model {MODEL_FILE}: {exc}") from exc
