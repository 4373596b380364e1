"""Reservoir sampling of labelled rows over a stream, and the weighted merge of hosts' reservoirs.

Each host keeps a uniform sample of at most ``sample_size`` of the rows it has read (Vitter's
algorithm R, applied a mini-batch at a time) and how many rows it read. The master merges the
reservoirs into one uniform sample of every host's rows: it draws how many points each host
contributes from a multivariate hypergeometric law over the hosts' row counts, then that many of
each reservoir at random. A host's reservoir is a uniform sample of its own rows, so the result
is a uniform sample of the union, whatever the shards' sizes; hosts therefore keep up to the
whole ``sample_size`` each, not sample_size / hosts.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse

from opensage.errors import AlgorithmClientError

# Each host draws from its own stream of this seed, so a rerun samples the same rows.
SAMPLING_SEED = 11


@dataclass
class Reservoir:
    """A uniform sample of the rows seen so far: ``features`` (m, d) float32 and ``labels`` (m,) float32."""

    capacity: int
    feature_dim: int
    host_rank: int = 0
    seen: int = 0
    features: np.ndarray = field(init=False)
    labels: np.ndarray = field(init=False)
    _filled: int = field(init=False, default=0)

    def __post_init__(self) -> None:
        self.features = np.zeros((0, self.feature_dim), dtype=np.float32)
        self.labels = np.zeros(0, dtype=np.float32)
        self._random = np.random.default_rng([SAMPLING_SEED, self.host_rank])

    def add(self, features: np.ndarray | sparse.csr_matrix, labels: np.ndarray) -> None:
        """Offer a batch of rows: the first ``capacity`` rows fill it, each later row t replaces with p = capacity/t."""
        rows = int(features.shape[0])
        if rows == 0:
            return
        free = max(self.capacity - len(self.labels), 0)
        taken = min(free, rows)
        if taken:
            self._append(_dense(features[:taken]), labels[:taken])
        if taken < rows:
            # Row number t (1-based, over the whole stream) keeps slot j ~ U[0, t) when j < capacity.
            numbers = np.arange(self.seen + taken + 1, self.seen + rows + 1)
            slots = self._random.integers(0, numbers)
            kept = np.flatnonzero(slots < self.capacity) + taken
            if kept.size:
                self._replace(features, labels, kept, slots[kept - taken])
        self.seen += rows

    def _append(self, features: np.ndarray, labels: np.ndarray) -> None:
        self.features = np.concatenate([self.features, features.astype(np.float32)])
        self.labels = np.concatenate([self.labels, np.asarray(labels, dtype=np.float32)])

    def _replace(
        self,
        features: np.ndarray | sparse.csr_matrix,
        labels: np.ndarray,
        rows: np.ndarray,
        slots: np.ndarray,
    ) -> None:
        # Rows later in the batch overwrite earlier ones in the same slot, as one row at a time would:
        # keep each slot's last row (numpy leaves repeated-index assignment order unspecified).
        last_first = slots[::-1]
        unique_slots, position = np.unique(last_first, return_index=True)
        winners = rows[::-1][position]
        self.features[unique_slots] = _dense(features[winners])
        self.labels[unique_slots] = labels[winners]

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, seen=np.array(self.seen), features=self.features, labels=self.labels)
        return buffer.getvalue()


def _dense(features: np.ndarray | sparse.csr_matrix) -> np.ndarray:
    if isinstance(features, np.ndarray):
        return features
    return np.asarray(features.toarray(), dtype=np.float32)


@dataclass(frozen=True)
class Sample:
    """The merged sample the index is built from."""

    features: np.ndarray
    labels: np.ndarray
    rows_seen: int


def merge(states: list[bytes], sample_size: int) -> Sample:
    """One uniform sample of at most ``sample_size`` rows of every host's stream (hosts in rank order)."""
    parts = []
    for state in states:
        with np.load(io.BytesIO(state), allow_pickle=False) as arrays:
            parts.append((int(arrays["seen"]), arrays["features"], arrays["labels"]))
    seen = np.array([part[0] for part in parts], dtype=np.int64)
    total = int(seen.sum())
    if total == 0:
        raise AlgorithmClientError("The train channel holds no rows")
    if len(parts) == 1:
        return Sample(parts[0][1], parts[0][2], total)
    random = np.random.default_rng([SAMPLING_SEED, len(parts)])
    wanted = min(sample_size, total)
    # How many of the union's sampled rows fall in each host's rows; a host's reservoir holds
    # min(seen, sample_size) >= any count drawn for it.
    counts = random.multivariate_hypergeometric(seen, wanted)
    features, labels = [], []
    for count, (_, host_features, host_labels) in zip(counts, parts, strict=True):
        chosen = np.sort(random.choice(len(host_labels), size=int(count), replace=False))
        features.append(host_features[chosen])
        labels.append(host_labels[chosen])
    return Sample(np.concatenate(features), np.concatenate(labels), total)
