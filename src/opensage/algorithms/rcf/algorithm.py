"""``RandomCutForestAlgorithm``: the declarations of SageMaker's Random Cut Forest; numpy loads lazily."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.algorithms.aialgs.algorithm import AialgsAlgorithm, ChannelRule
from opensage.algorithms.aialgs.metrics import Direction, QualityMetric
from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.hyperparameters import (
    ChoiceList,
    Hyperparameter,
    HyperparameterSpec,
    Integer,
    Range,
)

if TYPE_CHECKING:
    from opensage.algorithms.aialgs.serving import Model

EVAL_METRICS = ("accuracy", "precision_recall_fscore")
ACCURACY = QualityMetric("test", "accuracy", Direction.SCORE)
PRECISION = QualityMetric("test", "precision", Direction.SCORE)
RECALL = QualityMetric("test", "recall", Direction.SCORE)
F1 = QualityMetric("test", "f1", Direction.SCORE)


@cache
def hyperparameter_spec() -> HyperparameterSpec:
    return HyperparameterSpec(
        (
            Hyperparameter("feature_dim", Integer(Range(1, 10000)), required=True),
            Hyperparameter("num_trees", Integer(Range(50, 1000)), default=100),
            Hyperparameter("num_samples_per_tree", Integer(Range(1, 2048)), default=256),
            Hyperparameter("eval_metrics", ChoiceList(EVAL_METRICS), default=list(EVAL_METRICS)),
            # The SageMaker SDK sends mini_batch_size=1000 with every RCF job; it sizes reads only.
            Hyperparameter("mini_batch_size", Integer(Range(low=1)), default=1000),
        )
    )


class RandomCutForestAlgorithm(AialgsAlgorithm):
    """Anomaly scores from robust random cut trees, as SageMaker's ``randomcutforest`` image gives them."""

    name = "randomcutforest"
    repositories = ("randomcutforest",)
    supports_distributed = True
    channels = (ChannelRule("train", required=True), ChannelRule("test"))
    quality_metrics = (F1, PRECISION, RECALL, ACCURACY)

    def hyperparameter_spec(self) -> HyperparameterSpec:
        return hyperparameter_spec()

    def fit(self, env: TrainingEnvironment, values: dict[str, Any]) -> None:
        from opensage.algorithms.rcf.training import train_rcf

        train_rcf(env, values)

    def load_model(self, model_dir: Path, environment: Mapping[str, str]) -> Model:
        from opensage.algorithms.rcf.model import load_model

        return load_model(model_dir)
