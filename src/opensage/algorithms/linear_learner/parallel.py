"""``num_models`` linear models trained side by side as one matrix: a mini-batch step is a few matrix products.

The parameters of every model sit in the columns of one (feature_dim, M*K) matrix (K = 1 for
binary and regression, num_classes for multiclass; model m owns columns m*K .. m*K+K-1), so a
forward pass for all models is ``X @ W`` and the gradient ``Xᵀ @ G``, dense or sparse X alike.
Models differ in what the job left ``auto``: learning rate, L2 weight decay and, for binary
classifiers, the positive example weight (1 or balanced), on a fixed grid whose model 0 is
the plain default, so ``num_models=1`` (what tuning jobs force) trains exactly the defaults.

Features are normalised implicitly: with the scaler's ``mean`` and ``scale``,
``((X - mean) / scale) @ W = X @ (W / scale) - (mean / scale) @ W``, so neither a dense batch
is copied nor a sparse one densified to centre it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
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


@dataclass
class ParallelModels:
    """The weights (d, M*K) and biases (M*K,) of every model, in normalised units, and the optimizer state."""

    settings: Settings
    scaler: Scaler
    weights: np.ndarray
    bias: np.ndarray
    steps: int = 0
    _moments: list[np.ndarray] = field(default_factory=list)

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
        bias = np.full(settings.columns, values["init_bias"] if settings.use_bias else 0.0)
        return cls(settings, scaler, weights, bias)

    def _column(self, per_model: np.ndarray) -> np.ndarray:
        return np.repeat(per_model, self.settings.classes)

    def effective(self) -> tuple[np.ndarray, np.ndarray]:
        """Weights and bias that act on raw features: ``scores = X @ W + b`` equals the normalised model."""
        inverse = 1.0 / self.scaler.scale
        weights = self.weights * inverse[:, None]
        return weights, self.bias - (self.scaler.mean * inverse) @ self.weights

    def scores(self, features: np.ndarray | sparse.csr_matrix) -> np.ndarray:
        """(rows, M*K) scores of every model, in normalised label units."""
        weights, bias = self.effective()
        return np.asarray(features @ weights + bias)

    def step(self, features: np.ndarray | sparse.csr_matrix, gradient: np.ndarray, lr_step: int) -> None:
        """One optimizer step from d loss / d scores (rows, M*K), averaged over the rows."""
        s = self.settings
        rows = gradient.shape[0]
        inverse = 1.0 / self.scaler.scale
        column_sums = gradient.sum(axis=0)
        grad_w = np.asarray(features.T @ gradient) * inverse[:, None]
        grad_w -= np.outer(self.scaler.mean * inverse, column_sums)
        grad_w /= rows
        wd, l1 = self._column(s.weight_decays), self._column(s.l1)
        grad_w += wd * self.weights + l1 * np.sign(self.weights)
        grad_b = column_sums / rows + s.bias_wd_mult * wd * self.bias
        self.steps += 1
        rate = self._column(s.learning_rates)
        if s.use_lr_scheduler:
            decays = self.steps // max(lr_step, 1)
            rate = np.maximum(rate * s.lr_factor**decays, np.minimum(rate, s.lr_minimum))
        update_w, update_b = self._direction(grad_w, grad_b)
        self.weights -= rate * update_w
        if s.use_bias:
            self.bias -= rate * s.bias_lr_mult * update_b

    def _direction(self, grad_w: np.ndarray, grad_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        s = self.settings
        if not self._moments:
            self._moments = [np.zeros_like(grad) for grad in (grad_w, grad_b, grad_w, grad_b)]
        m_w, m_b, v_w, v_b = self._moments
        if s.optimizer == "sgd":
            m_w *= s.momentum
            m_w += grad_w
            m_b *= s.momentum
            m_b += grad_b
            return m_w, m_b
        if s.optimizer == "rmsprop":
            for v, g in ((v_w, grad_w), (v_b, grad_b)):
                v *= s.beta_2
                v += (1.0 - s.beta_2) * g * g
            return grad_w / (np.sqrt(v_w) + _EPS), grad_b / (np.sqrt(v_b) + _EPS)
        for m, v, g in ((m_w, v_w, grad_w), (m_b, v_b, grad_b)):
            m *= s.beta_1
            m += (1.0 - s.beta_1) * g
            v *= s.beta_2
            v += (1.0 - s.beta_2) * g * g
        first = 1.0 - s.beta_1**self.steps
        second = np.sqrt(1.0 - s.beta_2**self.steps)
        return (m_w / first) / (np.sqrt(v_w) / second + _EPS), (m_b / first) / (np.sqrt(v_b) / second + _EPS)
