"""XGBoost's metric names as SageMaker documents them, their log regexes, and the evaluation plan."""

from __future__ import annotations

from dataclasses import dataclass

from opensage.algorithms.base import MetricDefinition
from opensage.errors import AlgorithmClientError

# SageMaker's tuning metrics for XGBoost, by direction (DG xgboost-tuning; container constants).
MAXIMIZE_METRICS = (
    "accuracy",
    "auc",
    "aucpr",
    "balanced_accuracy",
    "f1",
    "f1_binary",
    "f1_macro",
    "map",
    "ndcg",
    "precision",
    "r2",
    "recall",
    "precision_macro",
    "precision_micro",
    "recall_macro",
    "recall_micro",
)
MINIMIZE_METRICS = (
    "aft-nloglik",
    "cox-nloglik",
    "error",
    "gamma-deviance",
    "gamma-nloglik",
    "interval-regression-accuracy",
    "logloss",
    "mae",
    "mape",
    "merror",
    "mlogloss",
    "mphe",
    "mse",
    "poisson-nloglik",
    "rmse",
    "rmsle",
    "tweedie-nloglik",
)
EVAL_METRICS = MAXIMIZE_METRICS + MINIMIZE_METRICS
# Metrics that take a threshold or cut-off after '@' (error@0.7, ndcg@5, map@10).
THRESHOLD_METRICS = ("error", "ndcg", "map")
# Metrics the SageMaker container computes itself (XGBoost has no such eval_metric).
CLASS_LABEL_METRICS = (
    "accuracy",
    "balanced_accuracy",
    "f1",
    "f1_macro",
    "precision_macro",
    "precision_micro",
    "recall_macro",
    "recall_micro",
)
POSITIVE_CLASS_METRICS = ("f1_binary", "precision", "recall")
REGRESSION_METRICS = ("mse", "r2")
CUSTOM_METRICS = CLASS_LABEL_METRICS + POSITIVE_CLASS_METRICS + REGRESSION_METRICS
DATA_NAMES = ("train", "validation")
# A number as XGBoost prints it (``0.12345``), or in exponent form.
_NUMBER = r"([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"
# XGBoost's own prefixes of metrics to maximise, for metrics given with a cut-off (ndcg@5).
_MAXIMIZE_PREFIXES = ("auc", "aucpr", "map", "ndcg", "pre")


def metric_definitions() -> list[MetricDefinition]:
    """``train:<m>`` and ``validation:<m>`` for each documented metric; regexes see a tab as ``#011``."""
    return [
        MetricDefinition(f"{data}:{metric}", rf".*\[[0-9]+\].*#011{data}-{metric}:{_NUMBER}")
        for data in DATA_NAMES
        for metric in EVAL_METRICS
    ]


def is_maximized(metric: str) -> bool:
    """Whether a larger value of ``metric`` (possibly ``name@cut-off``) is better."""
    return metric in MAXIMIZE_METRICS or metric.partition("@")[0] in _MAXIMIZE_PREFIXES


@dataclass(frozen=True)
class EvaluationPlan:
    """Which metrics XGBoost computes, which ones we compute, and what early stopping watches."""

    native: tuple[str, ...]
    custom: tuple[str, ...]
    # None: XGBoost's last metric (its default metric when eval_metric is not given).
    stopping_metric: str | None
    stopping_data: str


def parse_tuning_objective(value: str) -> tuple[str, str]:
    """Split ``validation:auc`` into (data, metric); raise AlgorithmClientError when it is not one of ours."""
    data, _, metric = value.partition(":")
    if data not in DATA_NAMES or metric not in EVAL_METRICS:
        raise AlgorithmClientError(
            f"Hyperparameter '_tuning_objective_metric': {value!r} is not an XGBoost metric; "
            f"use train:<metric> or validation:<metric> with one of {', '.join(EVAL_METRICS)}"
        )
    return data, metric


def plan_evaluation(
    eval_metric: list[str] | None, tuning_objective: str | None, has_validation: bool
) -> EvaluationPlan:
    """What to evaluate: the job's eval_metric plus the tuning objective, split native / custom.

    Early stopping watches the tuning objective when there is one, else the last eval_metric,
    on the validation data when there is some, else on the training data.
    """
    metrics = list(eval_metric or [])
    stopping_metric = metrics[-1] if metrics else None
    stopping_data = "validation" if has_validation else "train"
    if tuning_objective is not None:
        stopping_data, stopping_metric = parse_tuning_objective(tuning_objective)
        if stopping_data == "validation" and not has_validation:
            raise AlgorithmClientError(
                f"The tuning objective {tuning_objective} needs a 'validation' channel, and this job has none"
            )
        if stopping_metric not in metrics:
            metrics.append(stopping_metric)
    native = tuple(name for name in metrics if name not in CUSTOM_METRICS)
    custom = tuple(name for name in metrics if name in CUSTOM_METRICS)
    return EvaluationPlan(native, custom, stopping_metric, stopping_data)
