"""Nearest centres for a block of rows: ||x||² - 2x·c + ||c||², one matrix product, dense or sparse rows."""

from __future__ import annotations

from typing import TypeAlias

import numpy as np
from scipy import sparse

Rows: TypeAlias = np.ndarray | sparse.csr_matrix


def row_norms(rows: Rows) -> np.ndarray:
    """Squared Euclidean norm of each row, in float64."""
    if isinstance(rows, np.ndarray):
        norms: np.ndarray = np.einsum("ij,ij->i", rows, rows, dtype=np.float64)
        return norms
    return np.asarray(rows.multiply(rows).sum(axis=1), dtype=np.float64).ravel()


def nearest(
    rows: Rows, centers: np.ndarray, rows_norms: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the index of its nearest centre and the squared distance to it.

    The product is taken in the centres' dtype (float32 on the training hot path, float64 when
    the distances are reported); ``||x||²`` does not change which centre is nearest, so it is
    only added to the minimum. Distances are clipped at 0 (rounding can make them negative).
    """
    cross = rows @ centers.T
    cross = np.asarray(cross.toarray() if sparse.issparse(cross) else cross)
    scores = np.einsum("ij,ij->i", centers, centers)[None, :] - 2.0 * cross
    index = np.argmin(scores, axis=1)
    best = scores[np.arange(scores.shape[0]), index].astype(np.float64)
    norms = row_norms(rows) if rows_norms is None else rows_norms
    return index, np.maximum(norms + best, 0.0)


def cluster_sums(
    rows: Rows, index: np.ndarray, n_centers: int, weights: np.ndarray | None = None
) -> np.ndarray:
    """Σ (weight ·) row over the rows of each centre, (n_centers, d) in float64, without a Python loop."""
    n = rows.shape[0]
    values = np.ones(n) if weights is None else np.asarray(weights, dtype=np.float64)
    indicator = sparse.csr_matrix((values, (index, np.arange(n))), shape=(n_centers, n))
    sums = indicator @ (
        rows.astype(np.float64) if sparse.issparse(rows) else np.asarray(rows, dtype=np.float64)
    )
    return np.asarray(sums.toarray() if sparse.issparse(sums) else sums)
