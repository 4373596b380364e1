"""Predict with one booster or several (the folds of k-fold training) as one model.

Several boosters are combined as SageMaker's XGBoost container combines them: the mean of
their predictions, or a majority vote for objectives whose prediction is a class
(``multi:softmax``, ``binary:hinge``; a tie goes to the smaller class).
Imported only when a model is loaded (numpy, xgboost).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from opensage.algorithms.xgboost.model_files import LoadedBooster, ModelFileError

VOTING_OBJECTIVES = frozenset({"multi:softmax", "binary:hinge"})
# Below this many rows a request is predicted on one thread. Threads gain nothing on a few
# rows, and OpenMP workers spinning after each call take the CPU from the processes that
# forward the next request (measured: p50 at 4 callers 2.0 -> 1.25 ms). Large batches
# (batch transform) are about twice as fast on all cores, so they get them.
THREADED_ROWS = 1024


def _all_threads() -> int:
    configured = os.environ.get("OMP_NUM_THREADS", "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else (os.cpu_count() or 1)


class Ensemble:
    """The boosters of one model, which must agree on objective, classes and features."""

    def __init__(self, members: Sequence[LoadedBooster]) -> None:
        first = members[0]
        for member in members[1:]:
            mine = (member.objective, member.num_class, member.num_features)
            theirs = (first.objective, first.num_class, first.num_features)
            if mine != theirs:
                raise ModelFileError(
                    "The model files cannot be served as one ensemble: (objective, classes, features) "
                    f"are {theirs} for the first and {mine} for another"
                )
        self.members = tuple(members)
        self.objective = first.objective
        self.num_class = first.num_class
        self.num_features = first.num_features
        # The one-booster case is the hot path: keep its call as short as possible.
        self._single = first if len(members) == 1 else None
        self._max_threads = _all_threads()
        self._threads = 0

    def _use_threads(self, rows: int) -> None:
        wanted = 1 if rows < THREADED_ROWS else self._max_threads
        if wanted != self._threads:
            for member in self.members:
                member.booster.set_param({"nthread": wanted})
            self._threads = wanted

    def predict(self, features: Any, *, margin: bool = False) -> np.ndarray:
        """What ``Booster.predict`` gives for ``features``, combined over the members."""
        kind = "margin" if margin else "value"
        self._use_threads(features.shape[0])
        single = self._single
        if single is not None:
            prediction: np.ndarray = single.booster.inplace_predict(
                features,
                iteration_range=single.iteration_range,
                predict_type=kind,
                missing=np.nan,
                validate_features=False,
            )
            return prediction
        outputs = [
            member.booster.inplace_predict(
                features,
                iteration_range=member.iteration_range,
                predict_type=kind,
                missing=np.nan,
                validate_features=False,
            )
            for member in self.members
        ]
        if not margin and self.objective in VOTING_OBJECTIVES:
            return _vote(outputs)
        return np.mean(outputs, axis=0)  # type: ignore[no-any-return]

    def empty_prediction(self, *, margin: bool = False) -> np.ndarray:
        """The shape of a prediction for no rows (xgboost itself gives a flat empty array)."""
        per_class = self.objective == "multi:softprob" or (margin and self.num_class > 1)
        return np.empty((0, self.num_class) if per_class else (0,), dtype=np.float32)


def _vote(outputs: list[np.ndarray]) -> np.ndarray:
    classes = np.stack(outputs).astype(np.int64)  # (members, rows)
    n_rows = classes.shape[1]
    counts = np.zeros((n_rows, int(classes.max()) + 1), dtype=np.int64)
    rows = np.arange(n_rows)
    for member in classes:
        np.add.at(counts, (rows, member), 1)
    winners: np.ndarray = np.argmax(counts, axis=1).astype(np.float32)
    return winners
