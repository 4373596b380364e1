"""A trained k-NN model answering ``/invocations``: the k nearest sampled points, their vote or mean.

``predicted_label`` is the most frequent label among the k neighbours (classifier; a tie goes
to the label of the nearest tied neighbour) or their mean (regressor). With Accept
``...; verbose=true`` each answer also holds the neighbours' ``distances`` (faiss's: squared
L2, or the inner product / cosine similarity, nearest first) and their ``labels``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from opensage.algorithms.aialgs.serving import Features, Model
from opensage.algorithms.knn.index import LABELS_FILE, METADATA_FILE, MODEL_FILE, Layout, layout_from_metadata
from opensage.errors import InferenceError
from opensage.formats.responses import OutputField

# Bounds the (rows, k, k) label comparisons of one voting step.
_VOTE_CELLS = 1 << 22


class KNNModel(Model):
    def __init__(
        self, index: Any, labels: np.ndarray, layout: Layout, k: int, predictor_type: str, nprobe: int | None
    ) -> None:
        self.index = index
        self.labels = labels
        self.layout = layout
        self.k = k
        self.predictor_type = predictor_type
        self.nprobe = nprobe

    @property
    def feature_dim(self) -> int:
        return self.layout.input_dim

    def neighbours(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The distances and ids of each row's k nearest indexed points, nearest first."""
        import faiss

        vectors = self.layout.vectors(rows)
        k = min(self.k, int(self.index.ntotal))
        if self.nprobe is None:
            distances, ids = self.index.search(vectors, k)
            return distances, ids
        # Parameters per call, not on the index: an endpoint answers requests on several threads.
        distances, ids = self.index.search(vectors, k, params=_probing(self.nprobe))
        short = np.flatnonzero((ids < 0).any(axis=1))
        if short.size:
            # The probed lists held fewer than k points: search those rows in every list.
            every_list = _probing(int(faiss.extract_index_ivf(self.index).nlist))
            distances[short], ids[short] = self.index.search(vectors[short], k, params=every_list)
        return distances, ids

    def predict_labels(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``predicted_label`` per row, with the neighbours' distances and labels."""
        distances, ids = self.neighbours(rows)
        labels = self.labels[ids]
        if self.predictor_type == "classifier":
            predicted = vote(labels)
        else:
            predicted = labels.astype(np.float64).mean(axis=1).astype(np.float32)
        return predicted, distances, labels

    def predict(self, features: Features, accept_parameters: Mapping[str, str]) -> list[OutputField]:
        rows = features if isinstance(features, np.ndarray) else features.toarray()
        predicted, distances, labels = self.predict_labels(np.asarray(rows, dtype=np.float32))
        fields = [OutputField("predicted_label", predicted)]
        if accept_parameters.get("verbose", "").lower() == "true":
            fields += [OutputField("distances", distances), OutputField("labels", labels)]
        return fields


def _probing(nprobe: int) -> Any:
    import faiss

    parameters = faiss.SearchParametersIVF()
    parameters.nprobe = nprobe
    return parameters


def vote(labels: np.ndarray) -> np.ndarray:
    """Each row's most frequent label; among tied labels, the one whose first occurrence is nearest."""
    rows, k = labels.shape
    out = np.empty(rows, dtype=np.float32)
    step = max(1, _VOTE_CELLS // (k * k))
    for start in range(0, rows, step):
        block = labels[start : start + step]
        counts = (block[:, :, None] == block[:, None, :]).sum(axis=2)
        # argmax returns the first (nearest) position holding the largest count.
        out[start : start + len(block)] = block[np.arange(len(block)), counts.argmax(axis=1)]
    return out


def load_model(model_dir: Path) -> KNNModel:
    import faiss

    try:
        metadata = json.loads((model_dir / METADATA_FILE).read_text())
        index = faiss.deserialize_index(np.frombuffer((model_dir / MODEL_FILE).read_bytes(), dtype=np.uint8))
        labels = np.frombuffer((model_dir / LABELS_FILE).read_bytes(), dtype="<f4").astype(np.float32)
        predictor_type = str(metadata["predictor_type"])
        k = int(metadata["k"])
    except (OSError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        raise InferenceError(500, f"Cannot load the k-NN model {MODEL_FILE}: {exc}") from exc
    if predictor_type not in ("classifier", "regressor") or k < 1 or len(labels) != index.ntotal:
        raise InferenceError(
            500,
            f"The k-NN model is inconsistent: predictor_type {predictor_type!r}, k {k}, "
            f"{len(labels)} labels for {index.ntotal} indexed points",
        )
    nprobe = metadata.get("nprobe")
    return KNNModel(
        index,
        labels,
        layout_from_metadata(metadata),
        k,
        predictor_type,
        None if nprobe is None else int(nprobe),
    )
