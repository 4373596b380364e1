"""``KNNAlgorithm``: the declarations of SageMaker's k-NN; training and hosting load numpy and faiss lazily."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opensage.algorithms.aialgs.algorithm import AialgsAlgorithm, ChannelRule
from opensage.algorithms.aialgs.metrics import Direction, QualityMetric, progress_metric_definitions
from opensage.algorithms.base import MetricDefinition, TrainingEnvironment
from opensage.algorithms.hyperparameters import (
    Categorical,
    Constraint,
    Hyperparameter,
    HyperparameterSpec,
    Integer,
    Range,
    RequiredWhen,
)

if TYPE_CHECKING:
    from opensage.algorithms.aialgs.serving import Model

INDEX_TYPES = ("faiss.Flat", "faiss.IVFFlat", "faiss.IVFPQ")
INDEX_METRICS = ("L2", "INNER_PRODUCT", "COSINE")
REDUCTION_TYPES = ("sign", "fjlt")
# The sub-quantizer counts faiss's IVFPQ supports (reference §5).
PQ_M_VALUES = (1, 2, 3, 4, 8, 12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 96)

ACCURACY = QualityMetric("test", "accuracy", Direction.SCORE)
MSE = QualityMetric("test", "mse", Direction.LOSS)


def _reduction_target_fits(values: Mapping[str, Any], given: frozenset[str]) -> str | None:
    target = values.get("dimension_reduction_target")
    if "dimension_reduction_type" in given and target is not None and target >= values["feature_dim"]:
        return (
            f"Hyperparameter 'dimension_reduction_target': {target} must be less than feature_dim "
            f"{values['feature_dim']}"
        )
    return None


def _pq_metric_is_l2(values: Mapping[str, Any], given: frozenset[str]) -> str | None:
    if values["index_type"] == "faiss.IVFPQ" and values["index_metric"] != "L2":
        return (
            f"Hyperparameter 'index_metric': {values['index_metric']} is not supported with index_type "
            "faiss.IVFPQ; use L2, or faiss.Flat / faiss.IVFFlat for INNER_PRODUCT and COSINE"
        )
    return None


def _pq_m_is_documented(values: Mapping[str, Any], given: frozenset[str]) -> str | None:
    m = values.get("faiss_index_pq_m")
    if m is not None and m not in PQ_M_VALUES:
        return f"Hyperparameter 'faiss_index_pq_m': {m} is not one of {', '.join(map(str, PQ_M_VALUES))}"
    return None


@cache
def hyperparameter_spec() -> HyperparameterSpec:
    positive = Integer(Range(low=1))
    return HyperparameterSpec(
        (
            Hyperparameter("feature_dim", positive, required=True),
            Hyperparameter("k", positive, required=True),
            Hyperparameter("predictor_type", Categorical(("classifier", "regressor")), required=True),
            Hyperparameter("sample_size", positive, required=True),
            Hyperparameter("dimension_reduction_type", Categorical(REDUCTION_TYPES)),
            Hyperparameter("dimension_reduction_target", positive),
            Hyperparameter("index_type", Categorical(INDEX_TYPES), default="faiss.Flat"),
            Hyperparameter("index_metric", Categorical(INDEX_METRICS), default="L2"),
            Hyperparameter("faiss_index_ivf_nlists", positive, default="auto", allow_auto=True),
            Hyperparameter("faiss_index_pq_m", positive),
            Hyperparameter("mini_batch_size", positive, default=5000),
        ),
        (
            RequiredWhen("dimension_reduction_target", "dimension_reduction_type", REDUCTION_TYPES),
            Constraint(_reduction_target_fits),
            Constraint(_pq_metric_is_l2),
            Constraint(_pq_m_is_documented),
        ),
    )


class KNNAlgorithm(AialgsAlgorithm):
    """k-nearest neighbours as SageMaker's ``knn`` image trains and serves it: a sampled faiss index."""

    name = "knn"
    repositories = ("knn",)
    supports_distributed = True
    channels = (ChannelRule("train", required=True), ChannelRule("test"))
    quality_metrics = (ACCURACY, MSE)

    def hyperparameter_spec(self) -> HyperparameterSpec:
        return hyperparameter_spec()

    def metric_definitions(self) -> list[MetricDefinition]:
        # k-NN prints its test score in its own form (reference §5), not the family's #quality_metric.
        return [
            MetricDefinition(metric.full_name, rf"#test_score \(\S+\) : \('{metric.name}', ([^)\s]+)\)")
            for metric in self.quality_metrics
        ] + progress_metric_definitions()

    def fit(self, env: TrainingEnvironment, values: dict[str, Any]) -> None:
        from opensage.algorithms.knn.training import train_knn

        train_knn(env, values)

    def load_model(self, model_dir: Path, environment: Mapping[str, str]) -> Model:
        from opensage.algorithms.knn.model import load_model

        return load_model(model_dir)
