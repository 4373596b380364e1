"""The scores FM reports: RMSE for a regressor; accuracy, cross-entropy and F1 at 0.5 for a binary classifier."""

from __future__ import annotations

from typing import Any

import numpy as np

from opensage.algorithms.aialgs.metrics import Direction, MetricLog, QualityMetric
from opensage.algorithms.base import ChannelInput
from opensage.algorithms.factorization_machines.algorithm import METRICS_OF, REGRESSOR
from opensage.algorithms.factorization_machines.data import batches, labelled_rows
from opensage.algorithms.factorization_machines.model import Parameters, forward, sigmoid


class Scores:
    """Sums over a stream of (raw score ŷ, label) pairs, so any number of batches gives exact metrics."""

    def __init__(self, regressor: bool) -> None:
        self.regressor = regressor
        self.count = 0
        self.squared_error = 0.0
        self.log_loss = 0.0
        self.correct = 0
        self.true_positives = self.false_positives = self.false_negatives = 0

    def add(self, scores: np.ndarray, labels: np.ndarray) -> None:
        raw = scores.astype(np.float64)
        self.count += raw.size
        if self.regressor:
            self.squared_error += float(np.sum((raw - labels) ** 2))
            return
        # -log sigmoid(z) = log(1 + e^-z), computed without overflow.
        self.log_loss += float(np.sum(np.logaddexp(0.0, np.where(labels == 1, -raw, raw))))
        predicted = sigmoid(raw) >= 0.5
        actual = labels == 1
        self.correct += int(np.sum(predicted == actual))
        self.true_positives += int(np.sum(predicted & actual))
        self.false_positives += int(np.sum(predicted & ~actual))
        self.false_negatives += int(np.sum(~predicted & actual))

    def values(self) -> dict[str, float]:
        n = max(self.count, 1)
        if self.regressor:
            return {"rmse": float(np.sqrt(self.squared_error / n))}
        found = 2 * self.true_positives + self.false_positives + self.false_negatives
        return {
            "binary_classification_accuracy": self.correct / n,
            "binary_classification_cross_entropy": self.log_loss / n,
            # F1 (beta = 1); 0 when nothing is positive, predicted or true, as scikit-learn gives.
            "binary_f_beta": 2 * self.true_positives / found if found else 0.0,
        }

    def metrics(self, channel: str) -> list[tuple[QualityMetric, float]]:
        documented = METRICS_OF[REGRESSOR if self.regressor else "binary_classifier"]
        directions: dict[str, Direction] = {metric.name: metric.direction for metric in documented}
        return [
            (QualityMetric(channel, name, directions[name]), value) for name, value in self.values().items()
        ]


def evaluate(parameters: Parameters, channel: ChannelInput, values: dict[str, Any]) -> Scores:
    regressor = parameters.predictor_type == REGRESSOR
    scores = Scores(regressor)
    for batch in batches(channel, values, 0):
        rows, labels = labelled_rows(batch, regressor)
        raw, _, _ = forward(rows, float(parameters.bias[0]), parameters.linear, parameters.factors)
        scores.add(raw, labels)
    return scores


def report_test(
    parameters: Parameters, channel: ChannelInput, values: dict[str, Any], log: MetricLog
) -> None:
    """Score the trained model on the test channel and print the documented ``test:*`` lines."""
    for metric, value in evaluate(parameters, channel, values).metrics("test"):
        log.quality(metric, value)
