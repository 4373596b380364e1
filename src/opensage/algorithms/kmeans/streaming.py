"""The streaming pass: Sculley's web-scale mini-batch k-means over K = k·extra_center_factor centres.

Each host keeps K centres and their weights. The first rows (at least K of them) seed the
centres (``init_method`` random or kmeans++); every mini-batch then assigns its rows to the
nearest centre and moves each centre to the weighted mean of what it held and what it got:
``c ← (1-p)·c + p·mean(new rows)`` with p = (rows it got) / (its new weight). With
``half_life_time_size`` h > 0 the old weights are multiplied by 0.5^(rows/h) before each batch,
so a row's weight halves after h more rows. The state (centres, weights) is what hosts send to
the master, which concatenates them and reduces them to k with ``lloyd.weighted_lloyd``.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from scipy import sparse

from opensage.algorithms.kmeans.geometry import Rows, cluster_sums, nearest
from opensage.algorithms.kmeans.lloyd import dense_rows, seeds

#: Each host's random choices come from its own stream of this seed: reruns give one model.
SEED = 23


class StreamingState:
    """One host's K weighted centres; rows arrive in mini-batches (dense float32 or CSR)."""

    def __init__(
        self, n_centers: int, feature_dim: int, *, init_method: str, half_life: int, host_rank: int
    ) -> None:
        self.n_centers = n_centers
        self.feature_dim = feature_dim
        self.init_method = init_method
        self.half_life = half_life
        self.random = np.random.default_rng([SEED, host_rank])
        self.centers = np.zeros((0, feature_dim))
        self.weights = np.zeros(0)
        self.rows_seen = 0
        # Rows held back until there are enough to seed K centres.
        self._pending: list[Rows] = []
        # Dense rows are shifted by the seed rows' mean before the float32 product, so that data
        # far from the origin does not lose its distances to cancellation.
        self._shift = np.zeros(feature_dim)

    @property
    def seeded(self) -> bool:
        return self.centers.shape[0] > 0

    def add(self, rows: Rows) -> None:
        if rows.shape[0] == 0:
            return
        if self.seeded:
            self._update(rows)
            return
        self._pending.append(rows)
        if sum(part.shape[0] for part in self._pending) >= self.n_centers:
            self._seed(_stack(self._pending))

    def start_epoch(self) -> None:
        """A new pass: the centres stay, their weights restart, so they count this pass's rows once."""
        self.finish()
        self.weights = np.zeros_like(self.weights)
        self.rows_seen = 0

    def finish(self) -> None:
        """Fewer rows than K in all: they are the summary themselves, each with weight 1."""
        if not self.seeded and self._pending:
            rows = _stack(self._pending)
            self._pending = []
            self.centers = dense_rows(rows, np.arange(rows.shape[0]))
            self.weights = np.ones(rows.shape[0])
            self.rows_seen += rows.shape[0]

    def _seed(self, rows: Rows) -> None:
        self._pending = []
        if not sparse.issparse(rows):
            self._shift = np.asarray(rows, dtype=np.float64).mean(axis=0)
        self.centers = seeds(self.init_method, rows, self.n_centers, self.random)
        self.weights = np.zeros(self.n_centers)
        self._update(rows)

    def _update(self, rows: Rows) -> None:
        index = self._assign(rows)
        counts = np.bincount(index, minlength=self.n_centers).astype(np.float64)
        if self.half_life > 0:
            self.weights *= 0.5 ** (rows.shape[0] / self.half_life)
        self.weights += counts
        got = counts > 0
        sums = cluster_sums(rows, index, self.n_centers)
        # c + (Σx - m·c)/w  ==  (1 - m/w)·c + (m/w)·mean(x): Sculley's per-centre step.
        self.centers[got] += (sums[got] - counts[got, None] * self.centers[got]) / self.weights[got, None]
        self.rows_seen += rows.shape[0]

    def _assign(self, rows: Rows) -> np.ndarray:
        if sparse.issparse(rows):
            return nearest(rows, self.centers.astype(np.float32))[0]
        shift = self._shift.astype(np.float32)
        shifted = np.asarray(rows, dtype=np.float32) - shift
        return nearest(shifted, (self.centers - self._shift).astype(np.float32))[0]

    def to_bytes(self) -> bytes:
        self.finish()
        buffer = io.BytesIO()
        np.savez(
            buffer,
            allow_pickle=False,
            centers=self.centers,
            weights=self.weights,
            rows=np.array(self.rows_seen),
        )
        return buffer.getvalue()


def merge_states(blobs: list[bytes]) -> tuple[np.ndarray, np.ndarray, int]:
    """Every host's centres and weights, concatenated in host order, and the rows they saw."""
    centers, weights, rows = [], [], 0
    for blob in blobs:
        arrays: Any = np.load(io.BytesIO(blob), allow_pickle=False)
        centers.append(arrays["centers"])
        weights.append(arrays["weights"])
        rows += int(arrays["rows"])
    return np.vstack(centers), np.concatenate(weights), rows


def _stack(parts: list[Rows]) -> Rows:
    if len(parts) == 1:
        return parts[0]
    if any(sparse.issparse(part) for part in parts):
        return sparse.vstack([sparse.csr_matrix(part) for part in parts], format="csr")
    return np.vstack(parts)
