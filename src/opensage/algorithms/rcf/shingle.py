"""Shingling: a time series as overlapping windows, the input RCF needs to see patterns in time."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opensage.errors import AlgorithmClientError

if TYPE_CHECKING:
    import numpy as np


def shingle(series: np.ndarray, size: int) -> np.ndarray:
    """Rows of ``size`` consecutive values: row i is ``series[i : i + size]``, flattened.

    ``series`` is (n,) for one value per time step or (n, k) for k; the result is
    (n - size + 1, size * k), oldest value first, ready to train on or score with RCF
    (``feature_dim = size * k``). A copy, so it can be written to a channel or changed.
    """
    import numpy as np  # here, not at import: the control plane imports this package

    values = np.asarray(series)
    if values.ndim not in (1, 2):
        raise AlgorithmClientError(f"a series to shingle is 1-D or 2-D, got shape {values.shape}")
    if size < 1:
        raise AlgorithmClientError(f"shingle size must be at least 1, got {size}")
    if values.shape[0] < size:
        raise AlgorithmClientError(f"a series of {values.shape[0]} steps has no shingle of size {size}")
    columns = values.reshape(values.shape[0], -1)
    windows = np.lib.stride_tricks.sliding_window_view(columns, size, axis=0)  # (n-size+1, k, size)
    return np.ascontiguousarray(windows.transpose(0, 2, 1).reshape(windows.shape[0], -1))
