"""PCA training: one pass over the train channel into a fixed-size state that sums across hosts.

Regular mode keeps (n, mean, M2 = Σ(x-mean)(x-mean)ᵀ) in float64 and merges batches and hosts
with Chan's pairwise update, which is exact and, unlike accumulating Σxᵀx, does not lose
precision to cancellation when the mean is large beside the spread. Randomized mode keeps
SageMaker's sketch (B = ΣH_tX_t, h = ΣH_t1, s = Σx, n) with H_t random ±1 (l x batch).
"""

from __future__ import annotations

import io
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from opensage.algorithms.aialgs import cluster
from opensage.algorithms.aialgs.channels import Batch, read_batches
from opensage.algorithms.aialgs.metrics import MetricLog
from opensage.algorithms.base import TrainingEnvironment
from opensage.errors import AlgorithmClientError

MODEL_FILE = "pca-model.npz"
# Each host's random sketch matrices come from its own stream of this seed: reruns give one model.
SKETCH_SEED = 17


@dataclass(frozen=True)
class Fitted:
    """The model: ``components`` (k, d) by decreasing variance; ``mean`` zeros without subtract_mean."""

    mean: np.ndarray
    components: np.ndarray
    singular_values: np.ndarray
    explained_variance: np.ndarray


class State(ABC):
    """What one pass accumulates; ``merge`` adds another host's, ``finish`` gives the model."""

    @abstractmethod
    def add(self, batch: Batch) -> None: ...

    @abstractmethod
    def merge(self, other: State) -> None: ...

    @abstractmethod
    def arrays(self) -> dict[str, np.ndarray]: ...

    @abstractmethod
    def finish(self, num_components: int, subtract_mean: bool) -> Fitted: ...

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, allow_pickle=False, **self.arrays())
        return buffer.getvalue()


def _column_sums(features: np.ndarray | sparse.csr_matrix) -> np.ndarray:
    # Summed in float64: float32 sums of a few thousand rows already lose the seventh digit.
    return np.asarray(features.astype(np.float64).sum(axis=0)).ravel()


def _gram(features: np.ndarray | sparse.csr_matrix) -> np.ndarray:
    if isinstance(features, np.ndarray):
        dense = np.asarray(features, dtype=np.float64)
        return dense.T @ dense
    x = features.astype(np.float64)
    return np.asarray((x.T @ x).toarray())


class RegularState(State):
    def __init__(self, feature_dim: int) -> None:
        self.n = 0
        self.mean = np.zeros(feature_dim)
        self.m2 = np.zeros((feature_dim, feature_dim))

    def add(self, batch: Batch) -> None:
        n = batch.n_rows
        mean = _column_sums(batch.features) / n
        if sparse.issparse(batch.features):
            m2 = _gram(batch.features) - n * np.outer(mean, mean)
        else:
            centred = np.asarray(batch.features, dtype=np.float64) - mean
            m2 = centred.T @ centred
        self._combine(n, mean, m2)

    def _combine(self, n: int, mean: np.ndarray, m2: np.ndarray) -> None:
        total = self.n + n
        if total == 0:
            return
        delta = mean - self.mean
        self.m2 += m2 + np.outer(delta, delta) * (self.n * n / total)
        self.mean += delta * (n / total)
        self.n = total

    def merge(self, other: State) -> None:
        assert isinstance(other, RegularState)
        self._combine(other.n, other.mean, other.m2)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"n": np.array(self.n), "mean": self.mean, "m2": self.m2}

    @classmethod
    def from_arrays(cls, arrays: Any) -> RegularState:
        state = cls(arrays["mean"].shape[0])
        state.n, state.mean, state.m2 = int(arrays["n"]), arrays["mean"], arrays["m2"]
        return state

    def finish(self, num_components: int, subtract_mean: bool) -> Fitted:
        scatter = self.m2 if subtract_mean else self.m2 + self.n * np.outer(self.mean, self.mean)
        eigenvalues, vectors = np.linalg.eigh(scatter)
        order = np.argsort(eigenvalues)[::-1][:num_components]
        top = np.clip(eigenvalues[order], 0.0, None)
        return _fitted(
            self.mean if subtract_mean else np.zeros_like(self.mean),
            vectors[:, order].T,
            np.sqrt(top),
            top / max(self.n - 1, 1),
        )


class RandomizedState(State):
    def __init__(self, feature_dim: int, sketch_rows: int, host_rank: int) -> None:
        self.n = 0
        self.sketch = np.zeros((sketch_rows, feature_dim))
        self.sign_sums = np.zeros(sketch_rows)
        self.total = np.zeros(feature_dim)
        self._random = np.random.default_rng([SKETCH_SEED, host_rank])

    def add(self, batch: Batch) -> None:
        signs = self._random.choice(np.array([-1.0, 1.0]), size=(self.sketch.shape[0], batch.n_rows))
        features = batch.features
        if sparse.issparse(features):
            self.sketch += np.asarray((features.T.astype(np.float64) @ signs.T).T)
        else:
            self.sketch += signs @ np.asarray(features, dtype=np.float64)
        self.sign_sums += signs.sum(axis=1)
        self.total += _column_sums(features)
        self.n += batch.n_rows

    def merge(self, other: State) -> None:
        assert isinstance(other, RandomizedState)
        self.sketch += other.sketch
        self.sign_sums += other.sign_sums
        self.total += other.total
        self.n += other.n

    def arrays(self) -> dict[str, np.ndarray]:
        return {
            "n": np.array(self.n),
            "sketch": self.sketch,
            "sign_sums": self.sign_sums,
            "total": self.total,
        }

    @classmethod
    def from_arrays(cls, arrays: Any) -> RandomizedState:
        state = cls(arrays["total"].shape[0], arrays["sketch"].shape[0], 0)
        state.n, state.sketch = int(arrays["n"]), arrays["sketch"]
        state.sign_sums, state.total = arrays["sign_sums"], arrays["total"]
        return state

    def finish(self, num_components: int, subtract_mean: bool) -> Fitted:
        mean = self.total / max(self.n, 1)
        sketch = self.sketch - np.outer(self.sign_sums, mean) if subtract_mean else self.sketch
        _, singular, right = np.linalg.svd(sketch, full_matrices=False)
        # E[HᵀH] = lI: the sketch's singular values are the data's times √l.
        data_singular = singular[:num_components] / np.sqrt(self.sketch.shape[0])
        return _fitted(
            mean if subtract_mean else np.zeros_like(mean),
            right[:num_components],
            data_singular,
            data_singular**2 / max(self.n - 1, 1),
        )


def _fitted(mean: np.ndarray, components: np.ndarray, singular: np.ndarray, variance: np.ndarray) -> Fitted:
    # An eigenvector's sign is arbitrary: make each component's largest entry positive, so that
    # every run and every host count gives the same model.
    signs = np.sign(components[np.arange(components.shape[0]), np.abs(components).argmax(axis=1)])
    signs[signs == 0] = 1.0
    return Fitted(mean, components * signs[:, None], singular, variance)


def new_state(values: dict[str, Any], host_rank: int) -> State:
    if values["algorithm_mode"] == "regular":
        return RegularState(values["feature_dim"])
    extra = values["extra_components"]
    extra = max(10, values["num_components"]) if extra == -1 else extra
    return RandomizedState(values["feature_dim"], values["num_components"] + extra, host_rank)


def state_from_bytes(data: bytes) -> State:
    arrays = np.load(io.BytesIO(data), allow_pickle=False)
    return RegularState.from_arrays(arrays) if "m2" in arrays else RandomizedState.from_arrays(arrays)


def accumulate(env: TrainingEnvironment, values: dict[str, Any], log: MetricLog) -> State:
    """This host's pass over its share of the train channel."""
    state = new_state(values, env.host_rank)
    started = time.monotonic()
    for batch in read_batches(
        env.channels["train"],
        values["mini_batch_size"],
        feature_dim=values["feature_dim"],
        default_label_size=0,
    ):
        state.add(batch)
    elapsed = max(time.monotonic() - started, 1e-9)
    log.progress(100)
    log.throughput(state_rows(state) / elapsed)
    return state


def state_rows(state: State) -> int:
    return int(state.arrays()["n"])


def train_pca(env: TrainingEnvironment, values: dict[str, Any]) -> None:
    log = MetricLog(env.current_host)
    state = accumulate(env, values, log)
    states = cluster.gather(env, state.to_bytes())
    if states is None:
        return  # the master writes the model
    merged = state_from_bytes(states[0])
    for other in states[1:]:
        merged.merge(state_from_bytes(other))
    if state_rows(merged) < 1:
        raise AlgorithmClientError("The train channel holds no rows")
    fitted = merged.finish(values["num_components"], values["subtract_mean"])
    if "test" in env.channels:
        for _ in read_batches(
            env.channels["test"],
            values["mini_batch_size"],
            feature_dim=values["feature_dim"],
            default_label_size=0,
        ):
            pass  # PCA documents no test metric; a bad test channel still fails the job
    env.model_dir.mkdir(parents=True, exist_ok=True)
    np.savez(
        env.model_dir / MODEL_FILE,
        mean=fitted.mean,
        components=fitted.components,
        singular_values=fitted.singular_values,
        explained_variance=fitted.explained_variance,
    )
    print(
        f"PCA: {state_rows(merged)} rows, {values['num_components']} components, "
        f"explained variance {fitted.explained_variance.tolist()}",
        flush=True,
    )
