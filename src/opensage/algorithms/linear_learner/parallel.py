"""``num_models`` linear models trained side by side as one matrix: a mini-batch step is two matrix products.

The parameters of every model sit in the columns of one float32 (feature_dim + 1, M*K) matrix
(K = 1 for binary and regression, num_classes for multiclass; model m owns columns
m*K .. m*K+K-1; the last row is the biases), so a forward pass for all models is one
``X @ W`` and the gradient one ``Xᵀ @ G`` (sgemm, or a sparse-dense product for CSR batches),
and the optimizer updates the whole matrix with a few in-place operations on buffers made
once. Models differ in what the job left ``auto``: learning rate, L2 weight decay and, for
binary classifiers, the positive example weight (1 or balanced), on a fixed grid whose
model 0 is the plain default, so ``num_models=1`` (what tuning jobs force) trains exactly the
defaults. Models that early stopping ends are dropped from the matrix (``keep``).

Features are normalised implicitly: with the scaler's ``mean`` and ``scale``,
``((X - mean) / scale) @ W = X @ (W / scale) - (mean / scale) @ W``, so neither a dense batch
is copied nor a sparse one densified to centre it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

#: Learning rates tried around the base one, and L2 weight decays, when they are left auto.
LEARNING_RATE_FACTORS = (1.0, 0.2, 5.0, 0.05)
WEIGHT_DECAYS = (0.0, 1e-5, 1e-3, 1e-2)
AUTO_NUM_MODELS = 32
#: ``learning_rate=auto`` per optimizer (features are normalised, so one scale fits most data).
BASE_LEARNING_RATES = {"adam": 0.01, "rmsprop": 0.01, "sgd": 0.01}
INIT_SEED = 0
_EPS = 1e-8


def _given(value: Any, auto: float) -> float:
    return auto if value == "auto" else float(value)


@dataclass
class Settings:
    """Per-model settings (vectors of length M) and the shared optimizer ones."""

    models: int
    classes: int  # K: columns per model
    learning_rates: np.ndarray
    weight_decays: np.ndarray
    l1: np.ndarray
    #: (M,) 1.0 or the balanced weight marker np.nan (resolved once the scaler sample is seen).
    positive_weights: np.ndarray
    optimizer: str
    momentum: float
    beta_1: float
    beta_2: float
    bias_lr_mult: float
    bias_wd_mult: float
    use_bias: bool
    lr_step: int | None  # None: one epoch's mini-batches, known after the first epoch
    lr_factor: float
    lr_minimum: float
    use_lr_scheduler: bool

    @property
    def columns(self) -> int:
        return self.models * self.classes


def settings_from(values: dict[str, Any], classes: int, tuning: bool) -> Settings:
    """The M models' settings from validated hyperparameters (``tuning`` forces one model)."""
    models = 1 if tuning else (AUTO_NUM_MODELS if values["num_models"] == "auto" else values["num_models"])
    index = np.arange(models)
    optimizer = "adam" if values["optimizer"] == "auto" else values["optimizer"]
    if values["learning_rate"] == "auto":
        factors = np.array(LEARNING_RATE_FACTORS)[index % len(LEARNING_RATE_FACTORS)]
        learning_rates = BASE_LEARNING_RATES[optimizer] * factors
    else:
        learning_rates = np.full(models, float(values["learning_rate"]))
    if values["wd"] == "auto":
        weight_decays = np.array(WEIGHT_DECAYS)[(index // len(LEARNING_RATE_FACTORS)) % len(WEIGHT_DECAYS)]
    else:
        weight_decays = np.full(models, float(values["wd"]))
    weight = values["positive_example_weight_mult"]
    if weight == "auto":
        # Half the grid weighs positives 1, half balanced: selection on validation decides.
        half = len(LEARNING_RATE_FACTORS) * len(WEIGHT_DECAYS)
        positive_weights = np.where((index // half) % 2 == 1, np.nan, 1.0)
    else:
        positive_weights = np.full(models, np.nan if weight == "balanced" else float(weight))
    return Settings(
        models=models,
        classes=classes,
        learning_rates=learning_rates,
        weight_decays=weight_decays,
        l1=np.full(models, _given(values["l1"], 0.0)),
        positive_weights=positive_weights,
        optimizer=optimizer,
        momentum=_given(values["momentum"], 0.9),
        beta_1=_given(values["beta_1"], 0.9),
        beta_2=_given(values["beta_2"], 0.999),
        bias_lr_mult=_given(values["bias_lr_mult"], 10.0),
        bias_wd_mult=_given(values["bias_wd_mult"], 0.0),
        use_bias=values["use_bias"],
        lr_step=None if values["lr_scheduler_step"] == "auto" else values["lr_scheduler_step"],
        lr_factor=_given(values["lr_scheduler_factor"], 0.9),
        lr_minimum=_given(values["lr_scheduler_minimum_lr"], 1e-5),
        use_lr_scheduler=values["use_lr_scheduler"],
    )


@dataclass
class Scaler:
    """Feature shift and scale (normalised x = (x - mean) / scale), label shift and scale."""

    mean: np.ndarray
    scale: np.ndarray
    label_mean: float = 0.0
    label_scale: float = 1.0


class ParallelModels:
    """The active models' parameters (d+1, A*K) in normalised units, their optimizer state and step buffers."""

    def __init__(self, settings: Settings, scaler: Scaler, params: np.ndarray) -> None:
        self.settings, self.scaler = settings, scaler
        self.params = np.ascontiguousarray(params, dtype=np.float32)
        #: The original index of each model still training.
        self.active = np.arange(settings.models)
        self.steps = 0
        self.moments = np.zeros((2, *self.params.shape), np.float32)  # first and second
        inverse = 1.0 / scaler.scale
        self._inverse = inverse.astype(np.float32)[:, None]
        shift = scaler.mean * inverse
        self._shift = shift.astype(np.float32) if np.any(shift) else None
        self._scores = np.empty((0, 0), np.float32)
        self._ones = np.ones(0, np.float32)
        self._columns_changed()

    @classmethod
    def initial(cls, settings: Settings, scaler: Scaler, values: dict[str, Any]) -> ParallelModels:
        dim = scaler.mean.shape[0]
        # One seed for every host: hosts of a sharded job start from the same point and average.
        random = np.random.default_rng(INIT_SEED)
        shape = (dim, settings.columns)
        if values["init_method"] == "uniform":
            weights = random.uniform(-values["init_scale"], values["init_scale"], size=shape)
        else:
            weights = random.normal(0.0, values["init_sigma"], size=shape)
        bias = np.full((1, settings.columns), values["init_bias"] if settings.use_bias else 0.0)
        return cls(settings, scaler, np.vstack([weights, bias]))

    @property
    def columns(self) -> np.ndarray:
        """The active models' columns in the full (M*K) layout."""
        k = self.settings.classes
        return (self.active[:, None] * k + np.arange(k)).ravel()

    def _per_column(self, per_model: np.ndarray) -> np.ndarray:
        return np.repeat(per_model[self.active], self.settings.classes).astype(np.float32)

    def _columns_changed(self) -> None:
        """Per-column constants and buffers for the active models (at the start and after ``keep``)."""
        s = self.settings
        self._rates = self._per_column(s.learning_rates)
        self._decays = -1  # the schedule's step count the current rate matrix is for
        self._rate = np.empty_like(self.params)
        # Rows of the rate matrix: 1 for weights, bias_lr_mult for the bias (0 without one).
        self._row_rate = np.ones((self.params.shape[0], 1), np.float32)
        self._row_rate[-1] = s.bias_lr_mult if s.use_bias else 0.0
        wd = self._per_column(s.weight_decays)
        self._weight_decay: np.ndarray | None = None
        if wd.any():
            self._weight_decay = np.vstack([np.broadcast_to(wd, self.params[:-1].shape), s.bias_wd_mult * wd])
        l1 = self._per_column(s.l1)
        self._l1 = l1 if l1.any() else None
        self._grad = np.empty_like(self.params)
        self._work = np.empty_like(self.params)
        self._effective = np.empty_like(self.params[:-1])

    def keep(self, models: np.ndarray) -> None:
        """Go on training only the active models where ``models`` (a mask over them) is true."""
        columns = np.repeat(models, self.settings.classes)
        self.active = self.active[models]
        self.params = np.ascontiguousarray(self.params[:, columns])
        self.moments = np.ascontiguousarray(self.moments[:, :, columns])
        self._columns_changed()

    def effective(self) -> tuple[np.ndarray, np.ndarray]:
        """Weights and bias (float64) that act on raw features: ``X @ W + b`` equals the normalised model."""
        weights = self.params[:-1].astype(np.float64) / self.scaler.scale[:, None]
        return weights, self.params[-1] - self.scaler.mean @ weights

    def scores(self, features: np.ndarray | sparse.csr_matrix) -> np.ndarray:
        """(rows, A*K) scores of every active model, in normalised label units, in a buffer reused by the next call."""
        weights = np.multiply(self.params[:-1], self._inverse, out=self._effective)
        bias = self.params[-1] if self._shift is None else self.params[-1] - self._shift @ self.params[:-1]
        rows = features.shape[0]
        if sparse.issparse(features):
            scores = np.asarray(features @ weights)
        else:
            if self._scores.shape[0] < rows or self._scores.shape[1] != weights.shape[1]:
                self._scores = np.empty((rows, weights.shape[1]), np.float32)
            scores = np.matmul(features, weights, out=self._scores[:rows])
        scores += bias
        return scores

    def step(self, features: np.ndarray | sparse.csr_matrix, gradient: np.ndarray, lr_step: int) -> None:
        """One optimizer step from d loss / d scores (rows, A*K), averaged over the rows."""
        grad, work = self._grad, self._work
        grad_w = grad[:-1]
        if sparse.issparse(features):
            grad_w[...] = features.T @ gradient
        else:
            np.matmul(features.T, gradient, out=grad_w)
        rows = gradient.shape[0]
        if self._ones.size < rows:
            self._ones = np.ones(rows, np.float32)
        column_sums = self._ones[:rows] @ gradient  # sgemv: several times faster than a sum over axis 0
        grad_w *= self._inverse
        if self._shift is not None:
            grad_w -= np.multiply.outer(self._shift, column_sums)
        grad[-1] = column_sums
        grad *= np.float32(1.0 / rows)
        if self._weight_decay is not None:
            grad += np.multiply(self._weight_decay, self.params, out=work)
        if self._l1 is not None:
            grad_w += np.multiply(np.sign(self.params[:-1], out=work[:-1]), self._l1, out=work[:-1])
        self.steps += 1
        self._direction(grad)  # into self._work
        work *= self._scheduled_rate(lr_step)
        self.params -= work

    def _scheduled_rate(self, lr_step: int) -> np.ndarray:
        s = self.settings
        decays = self.steps // max(lr_step, 1) if s.use_lr_scheduler else 0
        if decays != self._decays:
            rate = self._rates
            if s.use_lr_scheduler:
                rate = np.maximum(rate * np.float32(s.lr_factor**decays), np.minimum(rate, s.lr_minimum))
            np.multiply(self._row_rate, rate, out=self._rate)
            self._decays = decays
        return self._rate

    def _direction(self, grad: np.ndarray) -> None:
        """The update direction of ``grad`` under the optimizer, written into ``self._work``."""
        s = self.settings
        first, second, work = self.moments[0], self.moments[1], self._work
        if s.optimizer == "sgd":
            first *= np.float32(s.momentum)
            first += grad
            work[...] = first
            return
        second *= np.float32(s.beta_2)
        second += np.multiply(np.multiply(grad, grad, out=work), np.float32(1.0 - s.beta_2), out=work)
        if s.optimizer == "rmsprop":
            np.sqrt(second, out=work)
            work += np.float32(_EPS)
            np.divide(grad, work, out=work)
            return
        first *= np.float32(s.beta_1)
        first += np.multiply(grad, np.float32(1.0 - s.beta_1), out=work)
        # (m / (1 - b1^t)) / (sqrt(v) / sqrt(1 - b2^t) + eps), in place.
        np.sqrt(second, out=work)
        work *= np.float32(1.0 / np.sqrt(1.0 - s.beta_2**self.steps))
        work += np.float32(_EPS)
        np.divide(first, work, out=work)
        work *= np.float32(1.0 / (1.0 - s.beta_1**self.steps))
