"""``PCAAlgorithm``: the declarations of SageMaker's PCA; training and hosting load numpy lazily."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.algorithms.aialgs.algorithm import AialgsAlgorithm, ChannelRule
from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.hyperparameters import (
    Boolean,
    Categorical,
    Constraint,
    Hyperparameter,
    HyperparameterSpec,
    Integer,
    Range,
)

if TYPE_CHECKING:
    from opensage.algorithms.aialgs.serving import Model


def _components_fit(values: Mapping[str, Any], given: frozenset[str]) -> str | None:
    if values["num_components"] > values["feature_dim"]:
        return (
            f"Hyperparameter 'num_components': {values['num_components']} is more than feature_dim "
            f"{values['feature_dim']}; a projection keeps at most feature_dim components"
        )
    return None


@cache
def hyperparameter_spec() -> HyperparameterSpec:
    positive = Integer(Range(low=1))
    return HyperparameterSpec(
        (
            Hyperparameter("feature_dim", positive, required=True),
            Hyperparameter("mini_batch_size", positive, required=True),
            Hyperparameter("num_components", positive, required=True),
            Hyperparameter("algorithm_mode", Categorical(("regular", "randomized")), default="regular"),
            Hyperparameter("extra_components", Integer(Range(low=-1)), default=-1),
            Hyperparameter("subtract_mean", Boolean(("true", "True"), ("false", "False")), default=True),
        ),
        (Constraint(_components_fit),),
    )


class PCAAlgorithm(AialgsAlgorithm):
    """Principal component analysis as SageMaker's ``pca`` image trains and serves it."""

    name = "pca"
    repositories = ("pca",)
    supports_distributed = True
    channels = (ChannelRule("train", required=True), ChannelRule("test"))

    def hyperparameter_spec(self) -> HyperparameterSpec:
        return hyperparameter_spec()

    def fit(self, env: TrainingEnvironment, values: dict[str, Any]) -> None:
        from opensage.algorithms.pca.training import train_pca

        train_pca(env, values)

    def load_model(self, model_dir: Path, environment: Mapping[str, str]) -> Model:
        from opensage.algorithms.pca.model import load_model

        return load_model(model_dir)
