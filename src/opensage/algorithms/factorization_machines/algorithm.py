"""``FactorizationMachinesAlgorithm``: the declarations of SageMaker's FM; training and hosting load numpy lazily."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.algorithms.aialgs.algorithm import AialgsAlgorithm, ChannelRule
from opensage.algorithms.aialgs.metrics import Direction, QualityMetric
from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.hyperparameters import (
    TUNING_OBJECTIVE_METRIC,
    Categorical,
    Continuous,
    Hyperparameter,
    HyperparameterSpec,
    Integer,
    Range,
    RequiredWhen,
)
from opensage.errors import AlgorithmClientError

if TYPE_CHECKING:
    from opensage.algorithms.aialgs.serving import Model

REGRESSOR = "regressor"
BINARY_CLASSIFIER = "binary_classifier"

RMSE = QualityMetric("test", "rmse", Direction.LOSS)
ACCURACY = QualityMetric("test", "binary_classification_accuracy", Direction.SCORE)
CROSS_ENTROPY = QualityMetric("test", "binary_classification_cross_entropy", Direction.LOSS)
F_BETA = QualityMetric("test", "binary_f_beta", Direction.SCORE)
METRICS_OF = {REGRESSOR: (RMSE,), BINARY_CLASSIFIER: (ACCURACY, CROSS_ENTROPY, F_BETA)}

#: The three parameter groups and their documented defaults: (init sigma, learning rate, weight decay).
TERMS = {"bias": (0.01, 0.1, 0.01), "linear": (0.01, 0.001, 0.001), "factors": (0.001, 0.0001, 0.00001)}
INIT_METHODS = ("normal", "uniform", "constant")


def _term_parameters(term: str) -> tuple[Hyperparameter, ...]:
    sigma, learning_rate, weight_decay = TERMS[term]
    non_negative = Continuous(Range(low=0))
    return (
        Hyperparameter(f"{term}_init_method", Categorical(INIT_METHODS), default="normal"),
        Hyperparameter(f"{term}_init_scale", non_negative),
        Hyperparameter(f"{term}_init_sigma", non_negative, default=sigma),
        Hyperparameter(f"{term}_init_value", Continuous()),
        Hyperparameter(f"{term}_lr", non_negative, default=learning_rate),
        Hyperparameter(f"{term}_wd", non_negative, default=weight_decay),
    )


def _term_rules(term: str) -> tuple[RequiredWhen, ...]:
    # SageMaker documents no default for the uniform range or the constant: without one the
    # method has nothing to draw from, so say which hyperparameter is missing.
    return (
        RequiredWhen(f"{term}_init_scale", f"{term}_init_method", ("uniform",)),
        RequiredWhen(f"{term}_init_value", f"{term}_init_method", ("constant",)),
    )


@cache
def hyperparameter_spec() -> HyperparameterSpec:
    positive = Integer(Range(low=1))
    return HyperparameterSpec(
        (
            Hyperparameter("feature_dim", positive, required=True),
            Hyperparameter("num_factors", positive, required=True),
            Hyperparameter("predictor_type", Categorical((BINARY_CLASSIFIER, REGRESSOR)), required=True),
            Hyperparameter("epochs", positive, default=1),
            Hyperparameter("mini_batch_size", positive, default=1000),
            *(parameter for term in TERMS for parameter in _term_parameters(term)),
            # MXNet's optimizer options: a negative clip_gradient means no clipping, as there.
            Hyperparameter("clip_gradient", Continuous()),
            # Adam's epsilon (SageMaker documents one, so its optimizer is an adaptive one); it
            # divides, so it must be positive.
            Hyperparameter("eps", Continuous(Range(low=0, low_open=True))),
            Hyperparameter("rescale_grad", Continuous()),
        ),
        tuple(rule for term in TERMS for rule in _term_rules(term)),
    )


class FactorizationMachinesAlgorithm(AialgsAlgorithm):
    """Factorization Machines as SageMaker's ``factorization-machines`` image trains and serves it."""

    name = "factorization-machines"
    repositories = ("factorization-machines",)
    supports_distributed = True
    channels = (ChannelRule("train", required=True), ChannelRule("test"))
    quality_metrics = (RMSE, ACCURACY, CROSS_ENTROPY, F_BETA)

    def hyperparameter_spec(self) -> HyperparameterSpec:
        return hyperparameter_spec()

    def validate_hyperparameters(self, raw: dict[str, str]) -> dict[str, Any]:
        values = super().validate_hyperparameters(raw)
        objective = values.get(TUNING_OBJECTIVE_METRIC)
        own = [metric.full_name for metric in METRICS_OF[values["predictor_type"]]]
        if objective is not None and objective not in own:
            raise AlgorithmClientError(
                f"Hyperparameter '{TUNING_OBJECTIVE_METRIC}': {objective} is not reported by a "
                f"{values['predictor_type']}; use one of: {', '.join(own)}"
            )
        return values

    def fit(self, env: TrainingEnvironment, values: dict[str, Any]) -> None:
        from opensage.algorithms.factorization_machines.training import train_factorization_machines

        train_factorization_machines(env, values)

    def load_model(self, model_dir: Path, environment: Mapping[str, str]) -> Model:
        from opensage.algorithms.factorization_machines.model import load_model

        return load_model(model_dir)
