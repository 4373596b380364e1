"""Linear Learner's losses, for ``M`` models at once: per-row losses and their gradients in the scores.

Scores are (rows, M) for binary and regression models and (rows, M, K) for multiclass ones;
labels are (rows,). Everything is elementwise numpy over the whole mini-batch and every model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: What each loss is called in SageMaker's objective log line (``<name>_objective``).
OBJECTIVE_NAMES = {
    "logistic": "binary_classification_cross_entropy",
    "hinge_loss": "binary_classification_hinge_loss",
    "softmax_loss": "multiclass_cross_entropy",
    "squared_loss": "square_loss",
    "absolute_loss": "absolute_loss",
    "eps_insensitive_squared_loss": "eps_insensitive_squared_loss",
    "eps_insensitive_absolute_loss": "eps_insensitive_absolute_loss",
    "quantile_loss": "quantile_loss",
    "huber_loss": "huber_loss",
}


def sigmoid(scores: np.ndarray) -> np.ndarray:
    # exp of a negative magnitude only: no overflow for large scores of either sign.
    e = np.exp(-np.abs(scores))
    return np.asarray(np.where(scores >= 0, 1.0 / (1.0 + e), e / (1.0 + e)))


def softmax(scores: np.ndarray) -> np.ndarray:
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    return np.asarray(shifted / shifted.sum(axis=-1, keepdims=True))


@dataclass(frozen=True)
class Loss:
    """One loss with its parameters; label-unit parameters are in the (possibly normalised) label's units."""

    name: str
    margin: float = 1.0
    quantile: float = 0.5
    insensitivity: float = 0.01
    huber_delta: float = 1.0

    @property
    def objective_name(self) -> str:
        return OBJECTIVE_NAMES[self.name] + "_objective"

    def values(self, scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """The loss of each row under each model: (rows, M)."""
        return self._evaluate(scores, labels, gradient=False)[0]

    def gradient(self, scores: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-row losses (rows, M) and d loss / d scores (the scores' shape)."""
        values, gradient = self._evaluate(scores, labels, gradient=True)
        assert gradient is not None
        return values, gradient

    def _evaluate(
        self, scores: np.ndarray, labels: np.ndarray, *, gradient: bool
    ) -> tuple[np.ndarray, np.ndarray | None]:
        if self.name == "softmax_loss":
            return _softmax_loss(scores, labels.astype(np.int64), gradient)
        y = labels[:, None]
        if self.name == "logistic":
            # log(1 + e^f) - y f, computed without overflow.
            values = np.logaddexp(0.0, scores) - y * scores
            return values, (sigmoid(scores) - y) if gradient else None
        if self.name == "hinge_loss":
            signed = 2.0 * y - 1.0
            slack = self.margin - signed * scores
            return np.maximum(slack, 0.0), (-signed * (slack > 0)) if gradient else None
        return self._regression(scores - y, gradient)

    def _regression(self, residual: np.ndarray, gradient: bool) -> tuple[np.ndarray, np.ndarray | None]:
        """Regression losses of ``residual = score - label``."""
        size = np.abs(residual)
        sign = np.sign(residual)
        if self.name == "squared_loss":
            return residual**2, 2.0 * residual if gradient else None
        if self.name == "absolute_loss":
            return size, sign if gradient else None
        if self.name in ("eps_insensitive_squared_loss", "eps_insensitive_absolute_loss"):
            excess = np.maximum(size - self.insensitivity, 0.0)
            if self.name == "eps_insensitive_squared_loss":
                return excess**2, 2.0 * excess * sign if gradient else None
            return excess, sign * (excess > 0) if gradient else None
        if self.name == "quantile_loss":
            # Under-prediction (residual < 0) costs q per unit, over-prediction 1 - q.
            q = self.quantile
            values = np.where(residual < 0, -q * residual, (1.0 - q) * residual)
            return values, np.where(residual < 0, -q, 1.0 - q) if gradient else None
        if self.name == "huber_loss":
            delta = self.huber_delta
            values = np.where(size <= delta, 0.5 * residual**2, delta * (size - 0.5 * delta))
            return values, np.clip(residual, -delta, delta) if gradient else None
        raise ValueError(f"unknown loss {self.name!r}")


def _softmax_loss(
    scores: np.ndarray, labels: np.ndarray, gradient: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    rows = np.arange(scores.shape[0])
    shifted = scores - scores.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=-1))
    values = log_norm - shifted[rows, :, labels]
    if not gradient:
        return values, None
    probabilities = np.exp(shifted - log_norm[..., None])
    probabilities[rows, :, labels] -= 1.0
    return values, probabilities
