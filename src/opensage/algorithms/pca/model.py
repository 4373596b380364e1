"""A trained PCA model answering ``/invocations``: ``projection`` = (x - mean) · componentsᵀ."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from opensage.algorithms.aialgs.serving import Features, Model
from opensage.algorithms.pca.training import MODEL_FILE
from opensage.errors import InferenceError
from opensage.formats.responses import OutputField


class PCAModel(Model):
    response_key = "projections"

    def __init__(self, mean: np.ndarray, components: np.ndarray) -> None:
        self.mean = mean.astype(np.float32)
        # (d, k), so a request is one matrix product.
        self.projection = np.ascontiguousarray(components.T.astype(np.float32))

    @property
    def feature_dim(self) -> int:
        return int(self.projection.shape[0])

    def predict(self, features: Features, accept_parameters: Mapping[str, str]) -> list[OutputField]:
        # A sparse row is expanded: the model is dense (d x k) anyway, and (x - mean)·P computed
        # one way for every request type gives the same bits for the same row.
        dense = features if isinstance(features, np.ndarray) else features.toarray()
        projected = (np.asarray(dense, dtype=np.float32) - self.mean) @ self.projection
        return [OutputField("projection", projected.astype(np.float32))]


def load_model(model_dir: Path) -> PCAModel:
    path = model_dir / MODEL_FILE
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return PCAModel(arrays["mean"], arrays["components"])
    except (OSError, KeyError, ValueError) as exc:
        raise InferenceError(500, f"Cannot load the PCA model {MODEL_FILE}: {exc}") from exc
