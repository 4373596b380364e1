"""XGBoost training callbacks: the per-round metric lines, progress on other hosts, stopping on SIGTERM.

Imported only when a job trains (it imports xgboost).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType
from typing import Any, TextIO

import numpy as np
import xgboost
from xgboost.callback import TrainingCallback

from opensage.algorithms.xgboost.distributed import Group

logger = logging.getLogger(__name__)

EvalsLog = dict[str, dict[str, Any]]


def format_metric_line(epoch: int, evals_log: EvalsLog) -> str:
    """One round's line exactly as XGBoost's EvaluationMonitor prints it: ``[5]\\ttrain-rmse:1.23450``."""
    line = f"[{epoch}]"
    for data, metrics in evals_log.items():
        for metric, history in metrics.items():
            score = history[-1][0] if isinstance(history[-1], tuple) else history[-1]
            line += f"\t{data}-{metric}:{score:.5f}"
    return line


class MetricLines(TrainingCallback):
    """Print each round's metrics to stdout on the master (the platform scrapes them live).

    Other hosts log their progress now and then, in words that no metric regex matches.
    """

    def __init__(self, group: Group, host: str, num_round: int, stream: TextIO | None = None) -> None:
        super().__init__()
        self._group = group
        self._host = host
        self._num_round = num_round
        self._stream = stream
        self._every = max(1, num_round // 10)
        self.completed = 0

    def after_iteration(self, model: Any, epoch: int, evals_log: EvalsLog) -> bool:
        self.completed += 1
        if self._group.is_master:
            if evals_log:
                print(format_metric_line(epoch, evals_log), file=self._stream or sys.stdout, flush=True)
        elif self.completed % self._every == 0 or self.completed == self._num_round:
            logger.info(
                "Host %s (rank %d): round %d of %d done",
                self._host,
                self._group.rank,
                epoch + 1,
                self._num_round,
            )
        return False


class StopOnTerminate(TrainingCallback):
    """On SIGTERM (a stopped job), end training after the current round so that the model is saved.

    Every host stops at the same round: the hosts agree on the flag after each round.
    """

    def __init__(self, group: Group) -> None:
        super().__init__()
        self._group = group
        self._requested = threading.Event()
        self._previous: Any = None

    def before_training(self, model: Any) -> Any:
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGTERM, self._on_terminate)
        return model

    def after_training(self, model: Any) -> Any:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)
            self._previous = None
        return model

    def after_iteration(self, model: Any, epoch: int, evals_log: EvalsLog) -> bool:
        local = np.array([1.0 if self._requested.is_set() else 0.0])
        stop = bool(self._group.max(local)[0] > 0)
        if stop:
            logger.info("Stop requested: ending training after round %d and saving the model", epoch)
        return stop

    def _on_terminate(self, signum: int, frame: FrameType | None) -> None:
        self._requested.set()


def early_stopping(rounds: int, metric: str | None, data: str, maximize: bool | None) -> TrainingCallback:
    """XGBoost's EarlyStopping watching ``data``-``metric`` (XGBoost's last metric when None)."""
    return xgboost.callback.EarlyStopping(
        rounds=rounds, metric_name=metric, data_name=data, maximize=maximize
    )
