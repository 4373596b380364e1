"""``AialgsAlgorithm``: the base class of the built-in algorithms of the aialgs family.

A subclass declares what SageMaker documents for it and implements two methods::

    class PCAAlgorithm(AialgsAlgorithm):
        name = "pca"
        repositories = ("pca",)
        supports_distributed = True            # hosts merge their states (cluster.gather)
        channels = (ChannelRule("train", required=True), ChannelRule("test"))
        quality_metrics = (QualityMetric("test", "msd", Direction.LOSS),)

        def hyperparameter_spec(self) -> HyperparameterSpec: ...
        def fit(self, env, values) -> None: ...            # imports numpy here, not at module level
        def load_model(self, model_dir, environment) -> Model: ...

``validate_hyperparameters`` applies the spec and checks ``_tuning_objective_metric`` against
the declared metrics; ``train`` validates, checks the channels and calls ``fit``;
``load_predictor`` wraps ``load_model`` in the shared ``AialgsPredictor``.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.algorithms.aialgs.metrics import (
    QualityMetric,
    progress_metric_definitions,
    quality_metric_definitions,
)
from opensage.algorithms.base import (
    BuiltinAlgorithm,
    MetricDefinition,
    Predictor,
    ServingAlgorithm,
    TrainingEnvironment,
)
from opensage.algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC, HyperparameterSpec
from opensage.errors import AlgorithmClientError

if TYPE_CHECKING:
    from opensage.algorithms.aialgs.serving import Model


@dataclass(frozen=True)
class ChannelRule:
    """A channel the algorithm reads; ``required`` ones must be given."""

    name: str
    required: bool = False


class AialgsAlgorithm(BuiltinAlgorithm, ServingAlgorithm):
    """One algorithm of the aialgs family; see the module docstring for what a subclass declares."""

    channels: tuple[ChannelRule, ...] = (ChannelRule("train", required=True), ChannelRule("test"))
    quality_metrics: tuple[QualityMetric, ...] = ()
    #: Whether the per-epoch form of the quality metrics is printed (Linear Learner's validation).
    per_epoch_metrics: bool = False
    #: Every aialgs algorithm documents Pipe mode for its channels.
    supports_pipe: bool = True

    @abstractmethod
    def hyperparameter_spec(self) -> HyperparameterSpec:
        """Every documented hyperparameter (names, kinds, ranges, defaults, required, ``auto``)."""

    @abstractmethod
    def fit(self, env: TrainingEnvironment, values: dict[str, Any]) -> None:
        """Train on ``env``'s channels with validated ``values``; write ``env.model_dir``; print metrics."""

    @abstractmethod
    def load_model(self, model_dir: Path, environment: Mapping[str, str]) -> Model:
        """The trained model in ``model_dir``, ready to answer rows (see ``serving.Model``)."""

    def metric_definitions(self) -> list[MetricDefinition]:
        return quality_metric_definitions(self.quality_metrics, per_epoch=self.per_epoch_metrics) + (
            progress_metric_definitions()
        )

    def validate_hyperparameters(self, raw: dict[str, str]) -> dict[str, Any]:
        values = self.hyperparameter_spec().validate(raw)
        objective = values.get(TUNING_OBJECTIVE_METRIC)
        if objective is not None:
            known = [metric.full_name for metric in self.quality_metrics]
            if objective not in known:
                raise AlgorithmClientError(
                    f"Hyperparameter '{TUNING_OBJECTIVE_METRIC}': {objective!r} is not a metric of {self.name}; "
                    f"use one of: {', '.join(known) or '(none: it documents no tuning metric)'}"
                )
        return values

    def train(self, env: TrainingEnvironment) -> None:
        values = self.validate_hyperparameters(env.hyperparameters)
        self.check_channels(env)
        self.fit(env, values)

    def check_channels(self, env: TrainingEnvironment) -> None:
        known = {rule.name for rule in self.channels}
        unknown = sorted(set(env.channels) - known)
        if unknown:
            raise AlgorithmClientError(
                f"Unknown channel(s) {', '.join(repr(name) for name in unknown)}; {self.name} takes "
                + ", ".join(
                    f"'{rule.name}'" + (" (required)" if rule.required else "") for rule in self.channels
                )
            )
        for rule in self.channels:
            if rule.required and rule.name not in env.channels:
                raise AlgorithmClientError(f"{self.name} needs a '{rule.name}' channel")

    def load_predictor(self, model_dir: Path, environment: Mapping[str, str]) -> Predictor:
        from opensage.algorithms.aialgs.serving import AialgsPredictor

        return AialgsPredictor(self.load_model(model_dir, environment), environment)
