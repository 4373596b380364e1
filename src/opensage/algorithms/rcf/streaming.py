"""Streaming scores for a time series: each point scored by a forest of the points before it.

As a streaming RCF (Kinesis Analytics' RANDOM_CUT_FOREST, the one NAB ran) scores a point and
then learns it, but in vectorised steps: the points since the last rebuild are scored together
by the forest sampled from everything before them, then join the per-tree reservoirs, and the
trees are rebuilt. The step grows with the stream (a fixed share of it, between ``min_step`` and
``max_step`` points), because a reservoir of a long stream changes slowly: rebuilding after the
stream grew by 1/32 replaces about 1/32 of each tree's sample.
"""

from __future__ import annotations

import numpy as np

from opensage.algorithms.rcf.forest import build_forest, score_rows
from opensage.algorithms.rcf.sampling import Reservoirs


def stream_scores(
    rows: np.ndarray,
    *,
    num_trees: int = 100,
    num_samples_per_tree: int = 256,
    seed: int = 0,
    min_step: int = 32,
    max_step: int = 512,
) -> np.ndarray:
    """SageMaker-scale scores of ``rows`` (n, d) in order; points before any forest score 0."""
    rows = np.asarray(rows, dtype=np.float64)
    rng = np.random.default_rng(seed)
    reservoirs = Reservoirs(num_trees, num_samples_per_tree, rows.shape[1], rng)
    scores = np.zeros(rows.shape[0])
    start = 0
    while start < rows.shape[0]:
        step = int(np.clip(reservoirs.seen // 32, min_step, max_step))
        chunk = rows[start : start + step]
        if reservoirs.seen:
            forest = build_forest(reservoirs.filled, rng)
            scores[start : start + chunk.shape[0]] = score_rows(forest, chunk).score
        reservoirs.add(chunk)
        start += chunk.shape[0]
    return scores
