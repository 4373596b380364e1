"""``XGBoostAlgorithm``: SageMaker's built-in XGBoost (container 1.7-1) on the installed xgboost."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from opensage.algorithms.base import (
    BuiltinAlgorithm,
    MetricDefinition,
    Predictor,
    ServingAlgorithm,
    TrainingEnvironment,
)
from opensage.algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC
from opensage.algorithms.xgboost.hyperparameters import hyperparameter_spec
from opensage.algorithms.xgboost.metrics import metric_definitions, parse_tuning_objective
from opensage.errors import AlgorithmClientError

CHANNELS = ("train", "validation")
# Long enough for every host of a cluster to start and import xgboost, short enough to end a
# job whose other hosts never came.
DEFAULT_CLUSTER_TIMEOUT_S = 600.0


class XGBoostAlgorithm(BuiltinAlgorithm, ServingAlgorithm):
    """Gradient-boosted trees with xgboost, as SageMaker's XGBoost algorithm trains and serves them."""

    name = "xgboost"
    repositories = ("sagemaker-xgboost", "xgboost")
    supports_distributed = True

    def __init__(self, *, cluster_timeout_s: float = DEFAULT_CLUSTER_TIMEOUT_S) -> None:
        # How long the hosts of a distributed job wait for each other to join.
        self.cluster_timeout_s = cluster_timeout_s

    def metric_definitions(self) -> list[MetricDefinition]:
        return metric_definitions()

    def validate_hyperparameters(self, raw: dict[str, str]) -> dict[str, Any]:
        values = hyperparameter_spec().validate(raw)
        for name in ("_kfold", "_num_cv_round"):
            if name in values:
                raise AlgorithmClientError(
                    f"Hyperparameter '{name}': k-fold cross-validation is not supported yet; leave out "
                    "_kfold and _num_cv_round and give a validation channel instead"
                )
        if TUNING_OBJECTIVE_METRIC in values:
            parse_tuning_objective(values[TUNING_OBJECTIVE_METRIC])
        return values

    def train(self, env: TrainingEnvironment) -> None:
        values = self.validate_hyperparameters(env.hyperparameters)
        _check_channels(env)
        # Imported here: it loads numpy and xgboost, which reading metric definitions must not.
        from opensage.algorithms.xgboost.training import run_job

        run_job(env, values, hyperparameter_spec().given(env.hyperparameters), self.cluster_timeout_s)

    def load_predictor(self, model_dir: Path, environment: Mapping[str, str]) -> Predictor:
        # Imported here: it loads numpy and xgboost, which the control plane must not.
        from opensage.algorithms.xgboost.serving import load_predictor

        return load_predictor(model_dir, environment)


def _check_channels(env: TrainingEnvironment) -> None:
    unknown = sorted(set(env.channels) - set(CHANNELS))
    if unknown:
        raise AlgorithmClientError(
            f"Unknown channel(s) {', '.join(repr(name) for name in unknown)}; XGBoost takes 'train' "
            "(required) and 'validation'"
        )
    if "train" not in env.channels:
        raise AlgorithmClientError("XGBoost needs a 'train' channel")
