"""Reservoir sampling over a stream, one reservoir per tree, and the exact merge of hosts' reservoirs.

Each tree keeps its own uniform sample without replacement of ``size`` rows of the stream
(Vitter's algorithm R, vectorised over trees and rows), so one pass with fixed memory gives
every tree a fresh sample of everything seen. A ShardedByS3Key job's hosts each sample their
shard; ``merge`` turns them into samples of the whole stream: how many points each host gives
a tree is multivariate-hypergeometric in the hosts' row counts, then a uniform subset of that
host's reservoir (a uniform subset of a uniform sample is a uniform sample).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Reservoirs:
    """``num_trees`` reservoirs of up to ``size`` rows of ``feature_dim`` features each."""

    def __init__(self, num_trees: int, size: int, feature_dim: int, rng: np.random.Generator) -> None:
        self.samples = np.zeros((num_trees, size, feature_dim))
        self.seen = 0
        self._rng = rng

    @property
    def size(self) -> int:
        return int(self.samples.shape[1])

    @property
    def filled(self) -> np.ndarray:
        """The samples actually drawn: (num_trees, min(seen, size), feature_dim)."""
        return self.samples[:, : min(self.seen, self.size)]

    def add(self, rows: np.ndarray) -> None:
        n = rows.shape[0]
        index = self.seen + np.arange(n)
        first = index < self.size
        # Until a reservoir is full every tree takes every row.
        self.samples[:, index[first]] = rows[first]
        later = ~first
        if later.any():
            index, rows = index[later], rows[later]
            # Row i (0-based) replaces slot j = floor(u * (i + 1)) of a tree when j < size. The
            # draws go row by row, so how the stream is cut into batches changes nothing.
            draws = self._rng.random((index.shape[0], self.samples.shape[0])).T
            slots = np.floor(draws * (index + 1))
            tree, row = np.nonzero(slots < self.size)
            slot = slots[tree, row].astype(np.int64)
            # Several rows of one batch may take one slot: the later row wins, as one at a time.
            key = (tree * self.size + slot)[::-1]
            _, last = np.unique(key, return_index=True)
            pick = tree.shape[0] - 1 - last
            self.samples[tree[pick], slot[pick]] = rows[row[pick]]
        self.seen += n


def merge(parts: Sequence[tuple[np.ndarray, int]], size: int, rng: np.random.Generator) -> np.ndarray:
    """Samples of the union of streams from each part's (samples (T, m, d), rows seen); (T, k, d)."""
    counts = np.array([seen for _, seen in parts], dtype=np.int64)
    taken = int(min(size, counts.sum()))
    num_trees, _, d = parts[0][0].shape
    merged = np.zeros((num_trees, taken, d))
    for tree in range(num_trees):
        shares = rng.multivariate_hypergeometric(counts, taken, method="marginals")
        chosen = [
            samples[tree, rng.choice(samples.shape[1], share, replace=False)]
            for (samples, _), share in zip(parts, shares, strict=True)
            if share
        ]
        merged[tree] = np.concatenate(chosen, axis=0)
    return merged
