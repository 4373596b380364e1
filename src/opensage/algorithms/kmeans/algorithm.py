"""``KMeansAlgorithm``: the declarations of SageMaker's K-Means; training and hosting load numpy lazily."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.algorithms.aialgs.algorithm import AialgsAlgorithm, ChannelRule
from opensage.algorithms.aialgs.metrics import Direction, QualityMetric
from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.hyperparameters import (
    Boolean,
    Categorical,
    ChoiceList,
    Continuous,
    Hyperparameter,
    HyperparameterSpec,
    Integer,
    Range,
)
from opensage.errors import AlgorithmClientError

if TYPE_CHECKING:
    from opensage.algorithms.aialgs.serving import Model

INIT_METHODS = ("random", "kmeans++")
#: The SageMaker Python SDK's argument names for hyperparameters that are spelled otherwise on the wire.
SDK_ARGUMENT_NAMES = {
    "center_factor": "extra_center_factor",
    "max_iterations": "local_lloyd_max_iter",
    "tol": "local_lloyd_tol",
    "num_trials": "local_lloyd_num_trials",
    "local_init_method": "local_lloyd_init_method",
}


@cache
def hyperparameter_spec() -> HyperparameterSpec:
    positive = Integer(Range(low=1))
    return HyperparameterSpec(
        (
            Hyperparameter("feature_dim", positive, required=True),
            Hyperparameter("k", positive, required=True),
            Hyperparameter("mini_batch_size", positive, default=5000),
            Hyperparameter("epochs", positive, default=1),
            Hyperparameter("init_method", Categorical(INIT_METHODS), default="random"),
            Hyperparameter("extra_center_factor", positive, default="auto", allow_auto=True),
            Hyperparameter("local_lloyd_init_method", Categorical(INIT_METHODS), default="kmeans++"),
            Hyperparameter("local_lloyd_max_iter", positive, default=300),
            Hyperparameter("local_lloyd_tol", Continuous(Range(0, 1)), default=0.0001),
            Hyperparameter("local_lloyd_num_trials", positive, default="auto", allow_auto=True),
            Hyperparameter("half_life_time_size", Integer(Range(low=0)), default=0),
            Hyperparameter("eval_metrics", ChoiceList(("msd", "ssd")), default=["msd"]),
            # The SageMaker Python SDK always sends force_dense=True; it changes nothing here,
            # where dense and sparse rows are both read as they come.
            Hyperparameter("force_dense", Boolean(("True", "true"), ("False", "false")), default=True),
        )
    )


class KMeansAlgorithm(AialgsAlgorithm):
    """Clustering as SageMaker's ``kmeans`` image trains and serves it."""

    name = "kmeans"
    repositories = ("kmeans",)
    supports_distributed = True
    channels = (ChannelRule("train", required=True), ChannelRule("test"))
    quality_metrics = (
        QualityMetric("test", "msd", Direction.LOSS),
        QualityMetric("test", "ssd", Direction.LOSS),
    )

    def hyperparameter_spec(self) -> HyperparameterSpec:
        return hyperparameter_spec()

    def validate_hyperparameters(self, raw: dict[str, str]) -> dict[str, Any]:
        for argument, hyperparameter in SDK_ARGUMENT_NAMES.items():
            if argument in raw:
                raise AlgorithmClientError(
                    f"unknown hyperparameter '{argument}': that is the SageMaker Python SDK's argument "
                    f"name; the hyperparameter is '{hyperparameter}'"
                )
        return super().validate_hyperparameters(raw)

    def fit(self, env: TrainingEnvironment, values: dict[str, Any]) -> None:
        from opensage.algorithms.kmeans.training import train_kmeans

        train_kmeans(env, values)

    def load_model(self, model_dir: Path, environment: Mapping[str, str]) -> Model:
        from opensage.algorithms.kmeans.model import load_model

        return load_model(model_dir)
