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


def sigmoid(scores: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + e^-f) as (1 + tanh(f / 2)) / 2: no overflow for either sign, and numpy's tanh is vectorised."""
    half: np.ndarray = np.multiply(scores, 0.5, out=out)
    np.tanh(half, out=half)
    half *= 0.5
    half += 0.5
    return half


def softplus(scores: np.ndarray) -> np.ndarray:
    """log(1 + e^f) as max(f, 0) + log1p(e^-|f|), without overflow."""
    tail: np.ndarray = np.abs(scores)
    np.negative(tail, out=tail)
    np.exp(tail, out=tail)
    np.log1p(tail, out=tail)
    tail += np.maximum(scores, 0.0)
    return tail


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
        if self.name == "softmax_loss":
            return _softmax_loss(scores, labels.astype(np.int64), gradient=False)[0]
        y = labels[:, None]
        if self.name == "logistic":
            return np.asarray(softplus(scores) - y * scores)
        if self.name == "hinge_loss":
            return np.asarray(np.maximum(self.margin - (2.0 * y - 1.0) * scores, 0.0))
        return self._regression(scores - y)

    def derivative(self, scores: np.ndarray, labels: np.ndarray) -> np.ndarray:
        """d loss / d scores, of the scores' shape (the scores' buffer may be reused for it)."""
        if self.name == "softmax_loss":
            probabilities = _softmax_loss(scores, labels.astype(np.int64), gradient=True)[1]
            assert probabilities is not None
            return probabilities
        y = labels[:, None]
        if self.name == "logistic":
            # sigmoid(f) - y = tanh(f / 2) / 2 + (1/2 - y), in the scores' buffer.
            gradient: np.ndarray = np.multiply(scores, 0.5, out=scores)
            np.tanh(gradient, out=gradient)
            gradient *= 0.5
            gradient += 0.5 - y
            return gradient
        if self.name == "hinge_loss":
            signed = 2.0 * y - 1.0
            return np.asarray(-signed * (self.margin - signed * scores > 0))
        return self._regression_derivative(scores - y)

    def _regression(self, residual: np.ndarray) -> np.ndarray:
        """Regression losses of ``residual = score - label``."""
        size = np.abs(residual)
        if self.name == "squared_loss":
            return np.asarray(residual**2)
        if self.name == "absolute_loss":
            return np.asarray(size)
        if self.name in ("eps_insensitive_squared_loss", "eps_insensitive_absolute_loss"):
            excess = np.maximum(size - self.insensitivity, 0.0)
            return np.asarray(excess**2) if self.name == "eps_insensitive_squared_loss" else excess
        if self.name == "quantile_loss":
            # Under-prediction (residual < 0) costs q per unit, over-prediction 1 - q.
            q = self.quantile
            return np.where(residual < 0, -q * residual, (1.0 - q) * residual)
        if self.name == "huber_loss":
            delta = self.huber_delta
            return np.where(size <= delta, 0.5 * residual**2, delta * (size - 0.5 * delta))
        raise ValueError(f"unknown loss {self.name!r}")

    def _regression_derivative(self, residual: np.ndarray) -> np.ndarray:
        if self.name == "squared_loss":
            return 2.0 * residual
        if self.name == "absolute_loss":
            return np.asarray(np.sign(residual))
        if self.name in ("eps_insensitive_squared_loss", "eps_insensitive_absolute_loss"):
            excess = np.maximum(np.abs(residual) - self.insensitivity, 0.0)
            if self.name == "eps_insensitive_squared_loss":
                return np.asarray(2.0 * excess * np.sign(residual))
            return np.asarray(np.sign(residual) * (excess > 0))
        if self.name == "quantile_loss":
            return np.where(residual < 0, -self.quantile, 1.0 - self.quantile)
        if self.name == "huber_loss":
            return np.asarray(np.clip(residual, -self.huber_delta, self.huber_delta))
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
