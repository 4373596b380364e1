"""A trained K-Means model answering ``/invocations``: ``closest_cluster`` and ``distance_to_cluster``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from opensage.algorithms.aialgs.serving import Features, Model
from opensage.algorithms.kmeans import ndarray
from opensage.algorithms.kmeans.geometry import nearest
from opensage.algorithms.kmeans.training import MODEL_FILE
from opensage.errors import InferenceError
from opensage.formats.responses import OutputField

# Sparse requests up to this many cells are expanded, so a row answers the same bits in any form.
_DENSE_CELLS = 1 << 24


class KMeansModel(Model):
    csv_response = True

    def __init__(self, centers: np.ndarray) -> None:
        self.centers = np.asarray(centers, dtype=np.float64)

    @property
    def feature_dim(self) -> int:
        return int(self.centers.shape[1])

    def predict(self, features: Features, accept_parameters: Mapping[str, str]) -> list[OutputField]:
        rows: Features
        if isinstance(features, np.ndarray) or features.shape[0] * features.shape[1] > _DENSE_CELLS:
            rows = features.astype(np.float64)
        else:
            rows = np.asarray(features.toarray(), dtype=np.float64)
        index, squared = nearest(rows, self.centers)
        # SageMaker answers the Euclidean distance, and the cluster index as a float.
        return [
            OutputField("closest_cluster", index.astype(np.float32)),
            OutputField("distance_to_cluster", np.sqrt(squared).astype(np.float32)),
        ]


def load_model(model_dir: Path) -> KMeansModel:
    path = model_dir / MODEL_FILE
    try:
        matrices = ndarray.load(path)
    except (OSError, ValueError) as exc:
        raise InferenceError(500, f"Cannot load the K-Means model {MODEL_FILE}: {exc}") from exc
    if not matrices or matrices[0].ndim != 2:
        raise InferenceError(
            500, f"The K-Means model {MODEL_FILE} holds no (k, feature_dim) matrix of centres"
        )
    return KMeansModel(matrices[0])
