"""Factorization Machines training: mini-batch Adam over sparse rows, touching only the batch's columns.

Each batch is compacted to the columns it uses (``np.unique`` of its indices), the forward pass
and the gradients are O(k·nnz) sparse products, and the optimizer updates only those rows of
``linear`` / ``factors`` and their moments (MXNet's lazy update for sparse gradients), so a
batch costs the same with feature_dim 10⁴ or 10⁷. Gradients follow MXNet's order: summed over
the batch, times ``rescale_grad`` (default 1 / rows), clipped to ±``clip_gradient``, plus
``wd`` x the weight. Everything is seeded: the same data and hyperparameters give the same bits.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse

from opensage.algorithms.aialgs import cluster
from opensage.algorithms.aialgs.metrics import MetricLog
from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.factorization_machines.algorithm import REGRESSOR, TERMS
from opensage.algorithms.factorization_machines.data import batches, labelled_rows, recordio_channel
from opensage.algorithms.factorization_machines.evaluation import Scores, report_test
from opensage.algorithms.factorization_machines.model import Parameters, forward, sigmoid
from opensage.errors import AlgorithmClientError

# Every host draws the same initial weights, so their models can be averaged.
INIT_SEED = 23
BETA1, BETA2, DEFAULT_EPS = 0.9, 0.999, 1e-8


@dataclass
class Slot:
    """One parameter array with its Adam moments and its hyperparameters."""

    weights: np.ndarray
    learning_rate: float
    weight_decay: float
    first: np.ndarray = field(init=False)
    second: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.first = np.zeros_like(self.weights)
        self.second = np.zeros_like(self.weights)


def initial_weights(term: str, shape: tuple[int, ...], values: dict[str, Any], random: Any) -> np.ndarray:
    method = values[f"{term}_init_method"]
    if method == "normal":
        drawn = random.normal(0.0, values[f"{term}_init_sigma"], size=shape)
    elif method == "uniform":
        scale = values[f"{term}_init_scale"]
        drawn = random.uniform(-scale, scale, size=shape)
    else:
        drawn = np.full(shape, values[f"{term}_init_value"])
    return np.asarray(drawn, dtype=np.float32)


class Trainer:
    """The model being trained and its optimizer state; ``step`` takes one mini-batch."""

    def __init__(self, values: dict[str, Any]) -> None:
        random = np.random.default_rng(INIT_SEED)
        d, k = values["feature_dim"], values["num_factors"]
        shapes = {"bias": (1,), "linear": (d,), "factors": (d, k)}
        self.slots = {
            term: Slot(
                initial_weights(term, shapes[term], values, random),
                values[f"{term}_lr"],
                values[f"{term}_wd"],
            )
            for term in TERMS
        }
        self.regressor = values["predictor_type"] == REGRESSOR
        self.clip = values.get("clip_gradient")
        self.rescale = values.get("rescale_grad")
        self.eps = values.get("eps", DEFAULT_EPS)
        self.steps = 0

    def parameters(self, predictor_type: str) -> Parameters:
        return Parameters(
            self.slots["bias"].weights,
            self.slots["linear"].weights,
            self.slots["factors"].weights,
            predictor_type,
        )

    def step(self, rows: sparse.csr_matrix, labels: np.ndarray) -> np.ndarray:
        """One update from a batch; returns the scores the batch got before it."""
        columns, compact = np.unique(rows.indices, return_inverse=True)
        local = sparse.csr_matrix(
            (rows.data, compact.ravel(), rows.indptr), shape=(rows.shape[0], columns.size)
        )
        bias, linear, factors = (self.slots[t] for t in ("bias", "linear", "factors"))
        local_factors = factors.weights[columns]
        scores, projected, squared = forward(
            local, float(bias.weights[0]), linear.weights[columns], local_factors
        )
        # d loss / d ŷ: squared loss ½(ŷ-y)² for regression, log loss on sigmoid(ŷ) for classification.
        residual = (scores - labels) if self.regressor else (sigmoid(scores) - labels)
        residual = residual.astype(np.float32)
        transposed = local.T.tocsr()
        gradients = {
            "bias": np.array([residual.sum()], dtype=np.float32),
            "linear": np.asarray(transposed @ residual).ravel(),
            "factors": np.asarray(transposed @ (residual[:, None] * projected))
            - np.asarray(squared.T @ residual).ravel()[:, None] * local_factors,
        }
        self.steps += 1
        rescale = self.rescale if self.rescale is not None else 1.0 / rows.shape[0]
        for term, index in (("bias", slice(None)), ("linear", columns), ("factors", columns)):
            self._update(self.slots[term], index, gradients[term] * np.float32(rescale))
        return scores

    def _update(self, slot: Slot, index: Any, gradient: np.ndarray) -> None:
        weights = slot.weights[index]
        if self.clip is not None and self.clip >= 0:
            gradient = np.clip(gradient, -self.clip, self.clip)
        gradient = gradient + np.float32(slot.weight_decay) * weights
        first = BETA1 * slot.first[index] + (1 - BETA1) * gradient
        second = BETA2 * slot.second[index] + (1 - BETA2) * gradient * gradient
        corrected = slot.learning_rate * np.sqrt(1 - BETA2**self.steps) / (1 - BETA1**self.steps)
        slot.first[index], slot.second[index] = first, second
        slot.weights[index] = weights - np.float32(corrected) * first / (
            np.sqrt(second) + np.float32(self.eps)
        )


#: Hosts average after every epoch while one host's weights and Adam moments stay this small;
#: larger models (feature_dim x num_factors in the millions) average once, at the end, as
#: sending them through the master every epoch would cost more than the epoch.
PER_EPOCH_AVERAGING_BYTES = 64 << 20


def averages_every_epoch(env: TrainingEnvironment, trainer: Trainer) -> bool:
    size = sum(3 * slot.weights.nbytes for slot in trainer.slots.values())
    return len(env.hosts) > 1 and size <= PER_EPOCH_AVERAGING_BYTES


def fit_host(env: TrainingEnvironment, values: dict[str, Any], log: MetricLog) -> tuple[Trainer, int, bool]:
    """This host's epochs over its share of the train channel: the trainer, rows per epoch, and
    whether the hosts averaged their models after every epoch (so every host ends with the same)."""
    trainer = Trainer(values)
    each_epoch = averages_every_epoch(env, trainer)
    train = recordio_channel(env.channels["train"])
    started, seen, rows_per_epoch = time.monotonic(), 0, 0
    for epoch in range(values["epochs"]):
        scores = Scores(trainer.regressor)
        for batch in batches(train, values, epoch):
            rows, labels = labelled_rows(batch, trainer.regressor)
            scores.add(trainer.step(rows, labels), labels)
        if scores.count == 0:
            raise AlgorithmClientError("The train channel holds no records")
        rows_per_epoch, seen = scores.count, seen + scores.count
        if each_epoch:
            merged = cluster.exchange(
                env, _state_bytes(trainer, rows_per_epoch, moments=True), averaged_state
            )
            _load_state(trainer, merged)
        for metric, value in scores.metrics("train"):
            log.quality(metric, value, epoch=epoch)
        log.progress(100 * (epoch + 1) / values["epochs"])
    log.throughput(seen / max(time.monotonic() - started, 1e-9))
    return trainer, rows_per_epoch, each_epoch


def _state_bytes(trainer: Trainer, rows: int, *, moments: bool = False) -> bytes:
    arrays: dict[str, Any] = {"rows": np.array(rows)}
    for term, slot in trainer.slots.items():
        arrays[term] = slot.weights
        if moments:
            arrays[f"{term}_first"], arrays[f"{term}_second"] = slot.first, slot.second
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _load_state(trainer: Trainer, state: bytes) -> None:
    with np.load(io.BytesIO(state), allow_pickle=False) as arrays:
        for term, slot in trainer.slots.items():
            slot.weights, slot.first, slot.second = (
                arrays[term],
                arrays[f"{term}_first"],
                arrays[f"{term}_second"],
            )


def _weighted_means(states: list[bytes]) -> dict[str, np.ndarray]:
    """Every array of the hosts' states but ``rows``, averaged with each host weighted by its rows."""
    loaded = [np.load(io.BytesIO(state), allow_pickle=False) for state in states]
    weights = np.array([int(arrays["rows"]) for arrays in loaded], dtype=np.float64)
    weights /= weights.sum()
    return {
        name: sum(
            share * arrays[name].astype(np.float64) for share, arrays in zip(weights, loaded, strict=True)
        ).astype(np.float32)
        for name in loaded[0].files
        if name != "rows"
    }


def average(states: list[bytes]) -> dict[str, np.ndarray]:
    """The hosts' weights averaged, each weighted by the rows it trained on."""
    return {term: array for term, array in _weighted_means(states).items() if term in TERMS}


def averaged_state(states: list[bytes]) -> bytes:
    """The merge step of the per-epoch exchange: weights and Adam moments averaged by rows."""
    means: dict[str, Any] = _weighted_means(states)
    buffer = io.BytesIO()
    np.savez(buffer, **means)
    return buffer.getvalue()


def train_factorization_machines(env: TrainingEnvironment, values: dict[str, Any]) -> None:
    log = MetricLog(env.current_host)
    test = recordio_channel(env.channels["test"]) if "test" in env.channels else None
    trainer, rows, each_epoch = fit_host(env, values, log)
    if each_epoch:
        if not env.is_master:
            return  # it has the master's model: the master writes it
        print(
            f"{env.current_host}: {len(env.hosts)} hosts each trained on their own share of the train channel, "
            "averaging their models (weighted by rows) after every epoch",
            flush=True,
        )
    else:
        states = cluster.gather(env, _state_bytes(trainer, rows))
        if states is None:
            print(
                f"{env.current_host}: sent this host's model to {env.hosts[0]}, which averages the hosts' models"
            )
            return
        if len(states) > 1:
            for term, merged in average(states).items():
                trainer.slots[term].weights = merged
            print(
                f"{env.current_host}: {len(states)} hosts each trained on their own share of the train channel; "
                "the model is their average weighted by rows (one-shot model averaging: the model is too big to "
                "average every epoch)",
                flush=True,
            )
    parameters = trainer.parameters(values["predictor_type"])
    if test is not None:
        report_test(parameters, test, values, log)
    parameters.save(env.model_dir)
