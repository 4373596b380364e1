"""``LinearLearnerAlgorithm``: the declarations of SageMaker's Linear Learner; training and hosting load numpy lazily."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.algorithms.aialgs.algorithm import AialgsAlgorithm, ChannelRule
from opensage.algorithms.aialgs.metrics import Direction, QualityMetric
from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.hyperparameters import (
    Boolean,
    Categorical,
    Constraint,
    Continuous,
    Hyperparameter,
    HyperparameterSpec,
    Integer,
    Kind,
    Range,
    RequiredWhen,
)

if TYPE_CHECKING:
    from opensage.algorithms.aialgs.serving import Model

BINARY, MULTICLASS, REGRESSOR = "binary_classifier", "multiclass_classifier", "regressor"

#: Which losses each predictor type trains with; the first is what ``loss=auto`` means.
LOSSES = {
    BINARY: ("logistic", "hinge_loss"),
    MULTICLASS: ("softmax_loss",),
    REGRESSOR: (
        "squared_loss",
        "absolute_loss",
        "eps_insensitive_squared_loss",
        "eps_insensitive_absolute_loss",
        "quantile_loss",
        "huber_loss",
    ),
}
SELECTION_CRITERIA = (
    "accuracy",
    "f_beta",
    "precision_at_target_recall",
    "recall_at_target_precision",
    "loss_function",
    # The SDK also accepts these two.
    "f1",
    "cross_entropy_loss",
)


@dataclass(frozen=True)
class PositiveWeight(Kind):
    """``positive_example_weight_mult``: a number > 0, or ``balanced`` (``auto`` is the spec's)."""

    def parse(self, text: str) -> float | str:
        if text == "balanced":
            return text
        return Continuous(Range(low=0, low_open=True)).parse(text)

    def describe(self) -> str:
        return "a number > 0 or balanced"


def _loss_fits(values: Mapping[str, Any], given: frozenset[str]) -> str | None:
    loss, predictor = values["loss"], values["predictor_type"]
    if loss != "auto" and loss not in LOSSES[predictor]:
        return (
            f"Hyperparameter 'loss': {loss} does not train a {predictor}; "
            f"use auto or one of: {', '.join(LOSSES[predictor])}"
        )
    return None


def _num_classes_fits(values: Mapping[str, Any], given: frozenset[str]) -> str | None:
    if values["predictor_type"] != MULTICLASS and "num_classes" in given:
        return "Hyperparameter 'num_classes' is only for predictor_type multiclass_classifier"
    return None


def _auto(name: str, kind: Kind, default: Any = "auto") -> Hyperparameter:
    return Hyperparameter(name, kind, default=default, allow_auto=True)


@cache
def hyperparameter_spec() -> HyperparameterSpec:
    positive = Integer(Range(low=1))
    positive_number = Continuous(Range(low=0, low_open=True))
    non_negative = Continuous(Range(low=0))
    fraction = Continuous(Range(low=0, high=1, low_open=True, high_open=True))
    unit = Continuous(Range(low=0, high=1, high_open=True))
    switch = Boolean()
    return HyperparameterSpec(
        (
            Hyperparameter("predictor_type", Categorical((BINARY, MULTICLASS, REGRESSOR)), required=True),
            Hyperparameter("num_classes", Integer(Range(low=3, high=1_000_000))),
            _auto("feature_dim", positive),
            Hyperparameter("mini_batch_size", positive, default=1000),
            Hyperparameter("epochs", positive, default=15),
            _auto("num_models", positive),
            _auto("num_calibration_samples", positive),
            Hyperparameter(
                "binary_classifier_model_selection_criteria",
                Categorical(SELECTION_CRITERIA),
                default="accuracy",
            ),
            Hyperparameter("target_recall", fraction, default=0.8),
            Hyperparameter("target_precision", fraction, default=0.8),
            Hyperparameter("f_beta", positive_number, default=1.0),
            _auto("positive_example_weight_mult", PositiveWeight(), default=1.0),
            Hyperparameter("balance_multiclass_weights", switch, default=False),
            Hyperparameter("accuracy_top_k", positive, default=3),
            Hyperparameter(
                "loss",
                Categorical(("auto", *(loss for group in LOSSES.values() for loss in group))),
                default="auto",
            ),
            Hyperparameter("margin", non_negative, default=1.0),
            Hyperparameter("quantile", fraction, default=0.5),
            Hyperparameter("loss_insensitivity", non_negative, default=0.01),
            Hyperparameter("huber_delta", positive_number, default=1.0),
            Hyperparameter("optimizer", Categorical(("auto", "sgd", "adam", "rmsprop")), default="auto"),
            _auto("learning_rate", positive_number),
            _auto("momentum", unit),
            _auto("beta_1", unit),
            _auto("beta_2", unit),
            _auto("wd", non_negative),
            _auto("l1", non_negative),
            _auto("bias_lr_mult", positive_number),
            _auto("bias_wd_mult", non_negative),
            Hyperparameter("use_bias", switch, default=True),
            Hyperparameter("init_method", Categorical(("uniform", "normal")), default="uniform"),
            Hyperparameter("init_scale", positive_number, default=0.07),
            Hyperparameter("init_sigma", positive_number, default=0.01),
            Hyperparameter("init_bias", Continuous(), default=0.0),
            Hyperparameter("use_lr_scheduler", switch, default=True),
            _auto("lr_scheduler_step", positive),
            _auto("lr_scheduler_factor", fraction),
            _auto("lr_scheduler_minimum_lr", positive_number),
            _auto("normalize_data", switch, default=True),
            _auto("normalize_label", switch),
            _auto("unbias_data", switch),
            _auto("unbias_label", switch),
            Hyperparameter("num_point_for_scaler", positive, default=10000),
            Hyperparameter("early_stopping_patience", positive, default=3),
            Hyperparameter("early_stopping_tolerance", positive_number, default=0.001),
        ),
        (
            RequiredWhen("num_classes", "predictor_type", (MULTICLASS,)),
            Constraint(_num_classes_fits),
            Constraint(_loss_fits),
        ),
    )


def _metric(channel: str, name: str, direction: Direction, pattern: str | None = None) -> QualityMetric:
    return QualityMetric(channel, name, direction, log_pattern=pattern)


def _quality_metrics() -> tuple[QualityMetric, ...]:
    """Reference §2 "Tuning metrics": each on test and validation, rmse on validation only."""
    loss, score = Direction.LOSS, Direction.SCORE
    named: list[tuple[str, Direction, str | None]] = [
        # SageMaker prints the objective under the loss's own name, e.g. square_loss_objective.
        ("objective_loss", loss, r"\S+_objective"),
        ("mse", loss, None),
        ("absolute_loss", loss, None),
        ("binary_classification_accuracy", score, None),
        # ... and f_beta with its beta, binary_f_1.000.
        ("binary_f_beta", score, r"binary_f_\S+"),
        ("precision", score, None),
        ("recall", score, None),
        ("roc_auc_score", score, None),
        ("multiclass_accuracy", score, None),
        ("multiclass_top_k_accuracy", score, None),
        ("macro_f_beta", score, None),
        ("macro_precision", score, None),
        ("macro_recall", score, None),
        ("dcg", score, None),
    ]
    metrics = [_metric(channel, *entry) for channel in ("test", "validation") for entry in named]
    return (*metrics, _metric("validation", "rmse", loss))


def metric(channel: str, name: str) -> QualityMetric:
    """The declared metric ``<channel>:<name>``."""
    for quality in LinearLearnerAlgorithm.quality_metrics:
        if quality.channel == channel and quality.name == name:
            return quality
    raise KeyError(f"{channel}:{name}")


class LinearLearnerAlgorithm(AialgsAlgorithm):
    """Linear models (binary, multiclass, regression) as SageMaker's ``linear-learner`` image trains and serves them."""

    name = "linear-learner"
    repositories = ("linear-learner",)
    supports_distributed = True
    channels = (ChannelRule("train", required=True), ChannelRule("validation"), ChannelRule("test"))
    quality_metrics = _quality_metrics()
    per_epoch_metrics = True

    def hyperparameter_spec(self) -> HyperparameterSpec:
        return hyperparameter_spec()

    def fit(self, env: TrainingEnvironment, values: dict[str, Any]) -> None:
        from opensage.algorithms.linear_learner.job import train_linear_learner

        train_linear_learner(env, values)

    def load_model(self, model_dir: Path, environment: Mapping[str, str]) -> Model:
        from opensage.algorithms.linear_learner.model import load_model

        return load_model(model_dir)
