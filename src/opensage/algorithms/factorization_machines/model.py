"""A factorization machine's parameters, its O(k·nnz) forward pass, and the model that answers ``/invocations``.

ŷ(x) = w0 + Σᵢ wᵢxᵢ + ½ Σ_f [(Σᵢ v_if xᵢ)² - Σᵢ v_if² xᵢ²], which is Rendle's identity for
w0 + Σᵢwᵢxᵢ + Σᵢ Σⱼ>ᵢ ⟨vᵢ, vⱼ⟩ xᵢxⱼ: only the stored entries of a sparse row cost anything.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse

from opensage.algorithms.aialgs.serving import Features, Model
from opensage.errors import InferenceError
from opensage.formats import content_type as ct
from opensage.formats.responses import OutputField

MODEL_FILE = "factorization-machines-model.npz"


@dataclass
class Parameters:
    """``bias`` (1,), ``linear`` (d,), ``factors`` (d, k), all float32, and what they predict."""

    bias: np.ndarray
    linear: np.ndarray
    factors: np.ndarray
    predictor_type: str

    def save(self, model_dir: Path) -> None:
        model_dir.mkdir(parents=True, exist_ok=True)
        np.savez(
            model_dir / MODEL_FILE,
            bias=self.bias,
            linear=self.linear,
            factors=self.factors,
            predictor_type=np.array(self.predictor_type),
        )


def canonical_rows(features: Features) -> sparse.csr_matrix:
    """Rows as float32 CSR without zeros or repeated columns, sorted.

    Every request type (dense JSON, sparse JSON, RecordIO) goes through this one form, so the
    same row gives the same bits however it was sent.
    """
    rows = sparse.csr_matrix(features, dtype=np.float32)
    rows.sum_duplicates()
    rows.eliminate_zeros()
    rows.sort_indices()
    return rows


def forward(
    rows: sparse.csr_matrix, bias: float, linear: np.ndarray, factors: np.ndarray
) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """ŷ for each row, with the intermediate Σᵢ v_if xᵢ (rows, k) and x² that the gradients reuse.

    ``linear`` and ``factors`` are indexed by ``rows``' columns (a batch's compact columns in training).
    """
    squared = rows.copy()
    squared.data = squared.data * squared.data
    projected = np.asarray(rows @ factors)
    pairwise = 0.5 * (projected * projected - np.asarray(squared @ (factors * factors))).sum(axis=1)
    scores = bias + np.asarray(rows @ linear).ravel() + pairwise
    return scores, projected, squared


def sigmoid(values: np.ndarray) -> np.ndarray:
    # exp of -|z| never overflows.
    exp = np.exp(-np.abs(values))
    return np.asarray(np.where(values >= 0, 1.0 / (1.0 + exp), exp / (1.0 + exp)))


class FactorizationMachinesModel(Model):
    response_key = "predictions"
    # SageMaker's FM documents JSON and RecordIO requests, no CSV.
    request_types = (ct.JSON, ct.JSONLINES, ct.RECORDIO_PROTOBUF)

    def __init__(self, parameters: Parameters) -> None:
        self.parameters = parameters

    @property
    def feature_dim(self) -> int:
        return int(self.parameters.linear.shape[0])

    def predict(self, features: Features, accept_parameters: Mapping[str, str]) -> list[OutputField]:
        p = self.parameters
        scores, _, _ = forward(canonical_rows(features), float(p.bias[0]), p.linear, p.factors)
        if p.predictor_type == "regressor":
            return [OutputField("score", scores.astype(np.float32))]
        probabilities = sigmoid(scores).astype(np.float32)
        labels = (probabilities >= 0.5).astype(np.int64)
        return [OutputField("score", probabilities), OutputField("predicted_label", labels)]


def load_parameters(model_dir: Path) -> Parameters:
    path = model_dir / MODEL_FILE
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return Parameters(
                arrays["bias"], arrays["linear"], arrays["factors"], str(arrays["predictor_type"])
            )
    except (OSError, KeyError, ValueError) as exc:
        raise InferenceError(
            500, f"Cannot load the factorization machines model {MODEL_FILE}: {exc}"
        ) from exc


def load_model(model_dir: Path) -> FactorizationMachinesModel:
    return FactorizationMachinesModel(load_parameters(model_dir))
