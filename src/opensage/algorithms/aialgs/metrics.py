"""The metric log lines of the aialgs family and the MetricDefinitions that scrape them.

SageMaker's algorithms print, and its tuning jobs scrape (reference §0 "Metric log lines")::

    #quality_metric: host=algo-1, epoch=0, validation objective_loss <loss>=0.52   (per epoch)
    #quality_metric: host=algo-1, test msd <loss>=1.25                             (final)
    #progress_metric: host=algo-1, completed 50 %
    #throughput_metric: host=algo-1, train throughput=1234.5 records/second

``<loss>`` marks a metric to minimise, ``<score>`` one to maximise. The final form (without
``epoch=``) is what ``<channel>:<name>`` reads, so FinalMetricDataList holds the last value.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TextIO

from opensage.algorithms.base import MetricDefinition

_VALUE = r"(\S+)"


class Direction(StrEnum):
    """Whether a metric is a loss (minimised) or a score (maximised), as its log line says."""

    LOSS = "loss"
    SCORE = "score"


@dataclass(frozen=True)
class QualityMetric:
    """A metric an algorithm reports on a channel (``test:msd`` is channel test, name msd)."""

    channel: str
    name: str
    direction: Direction
    #: The regex of the name as the log line spells it, when that is not ``name`` itself: Linear
    #: Learner prints ``validation binary_classification_cross_entropy_objective <loss>=...`` for
    #: ``validation:objective_loss`` and ``binary_f_1.000`` for ``binary_f_beta``.
    log_pattern: str | None = None

    @property
    def full_name(self) -> str:
        return f"{self.channel}:{self.name}"


def quality_metric_definitions(
    metrics: Iterable[QualityMetric], *, per_epoch: bool = False
) -> list[MetricDefinition]:
    """One definition per metric for its final line; with ``per_epoch``, ``<name>:epoch`` for the epoch lines.

    The final regex needs the channel right after ``host=...,``, so epoch lines never feed it.
    """
    definitions = []
    for metric in metrics:
        tail = rf"{metric.channel} {metric.log_pattern or metric.name} <{metric.direction.value}>={_VALUE}"
        definitions.append(MetricDefinition(metric.full_name, rf"#quality_metric: host=\S+, {tail}"))
        if per_epoch:
            definitions.append(
                MetricDefinition(
                    f"{metric.full_name}:epoch", rf"#quality_metric: host=\S+, epoch=\S+, {tail}"
                )
            )
    return definitions


def progress_metric_definitions() -> list[MetricDefinition]:
    """``train:progress`` (percent) and ``train:throughput`` (records per second)."""
    return [
        MetricDefinition("train:progress", rf"#progress_metric: host=\S+, completed {_VALUE} %"),
        MetricDefinition(
            "train:throughput", rf"#throughput_metric: host=\S+, train throughput={_VALUE} records/second"
        ),
    ]


class MetricLog:
    """Prints one host's metric lines to stdout (the job log), flushed so they are scraped at once."""

    def __init__(self, host: str, stream: TextIO | None = None) -> None:
        self.host = host
        self._stream = stream

    def _print(self, line: str) -> None:
        print(line, file=self._stream or sys.stdout, flush=True)

    def quality(
        self, metric: QualityMetric, value: float, *, epoch: int | None = None, spelled: str | None = None
    ) -> None:
        """Print one value; ``spelled`` is the name the line shows when the metric has a ``log_pattern``."""
        where = f"host={self.host}" if epoch is None else f"host={self.host}, epoch={epoch}"
        name = spelled or metric.name
        self._print(
            f"#quality_metric: {where}, {metric.channel} {name} <{metric.direction.value}>={float(value)!r}"
        )

    def progress(self, percent: float) -> None:
        self._print(f"#progress_metric: host={self.host}, completed {_number(percent)} %")

    def throughput(self, records_per_second: float) -> None:
        self._print(
            f"#throughput_metric: host={self.host}, train throughput={_number(records_per_second)} records/second"
        )


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.6g}"
