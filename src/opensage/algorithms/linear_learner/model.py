"""A trained Linear Learner model answering ``/invocations``: ``score`` and, for classifiers, ``predicted_label``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from opensage.algorithms.aialgs.serving import Features, Model
from opensage.algorithms.linear_learner.algorithm import BINARY, MULTICLASS
from opensage.algorithms.linear_learner.losses import sigmoid, softmax
from opensage.errors import InferenceError
from opensage.formats.responses import OutputField

MODEL_FILE = "linear-learner-model.npz"


@dataclass(frozen=True)
class Fitted:
    """The selected model: ``scores = X @ weights + bias`` with (d, K) weights, and its threshold."""

    predictor_type: str
    loss: str
    weights: np.ndarray
    bias: np.ndarray
    threshold: float

    def raw_scores(self, features: Features) -> np.ndarray:
        return np.asarray(features.astype(np.float64) @ self.weights + self.bias)

    def outputs(self, raw: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``score`` (a probability for logistic and softmax losses) and ``predicted_label``."""
        if self.predictor_type == MULTICLASS:
            probabilities = softmax(raw)
            return probabilities, probabilities.argmax(axis=1)
        score = raw[:, 0]
        if self.predictor_type != BINARY:
            return score, None
        if self.loss == "logistic":
            score = sigmoid(score)
        return score, (score >= self.threshold).astype(np.int64)

    def save(self, path: Path) -> None:
        np.savez(
            path,
            predictor_type=np.array(self.predictor_type),
            loss=np.array(self.loss),
            weights=self.weights,
            bias=self.bias,
            threshold=np.array(self.threshold),
        )


class LinearLearnerModel(Model):
    def __init__(self, fitted: Fitted) -> None:
        self.fitted = fitted

    @property
    def feature_dim(self) -> int:
        return int(self.fitted.weights.shape[0])

    def predict(self, features: Features, accept_parameters: Mapping[str, str]) -> list[OutputField]:
        score, label = self.fitted.outputs(self.fitted.raw_scores(features))
        fields = [OutputField("score", score.astype(np.float32))]
        if label is not None:
            fields.append(OutputField("predicted_label", label))
        return fields


def load_fitted(model_dir: Path) -> Fitted:
    path = model_dir / MODEL_FILE
    try:
        with np.load(path, allow_pickle=False) as arrays:
            return Fitted(
                str(arrays["predictor_type"]),
                str(arrays["loss"]),
                arrays["weights"],
                arrays["bias"],
                float(arrays["threshold"]),
            )
    except (OSError, KeyError, ValueError) as exc:
        raise InferenceError(500, f"Cannot load the Linear Learner model {MODEL_FILE}: {exc}") from exc


def load_model(model_dir: Path) -> LinearLearnerModel:
    return LinearLearnerModel(load_fitted(model_dir))
