"""Load a model's containers into predictors and run them as SageMaker runs an inference pipeline.

Containers run in sequence, each response becoming the next request (its content type
too). The client's Accept goes to the last container only; intermediate containers answer
in their default format (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT), as SageMaker documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from opensage.algorithms.base import Prediction, Predictor, ServingAlgorithm
from opensage.algorithms.registry import load_algorithm
from opensage.errors import InferenceError
from opensage.runtime.serving.spec import ContainerSpec


def load_container(spec: ContainerSpec, model_dir: Path | None = None) -> Predictor:
    algorithm = load_algorithm(spec.algorithm)
    if not isinstance(algorithm, ServingAlgorithm):
        raise InferenceError(500, f"The {spec.algorithm} algorithm cannot be hosted")
    folder = model_dir or (Path(spec.model_dir) if spec.model_dir else None)
    if folder is None:
        raise InferenceError(500, f"The {spec.algorithm} container has no model data")
    return algorithm.load_predictor(folder, spec.environment)


class Pipeline(Predictor):
    def __init__(self, predictors: Sequence[Predictor]) -> None:
        self._predictors = list(predictors)

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> Prediction:
        last = len(self._predictors) - 1
        prediction = Prediction(body, content_type or "")
        for index, predictor in enumerate(self._predictors):
            prediction = predictor.predict(
                prediction.body, prediction.content_type or content_type, accept if index == last else None
            )
        return prediction
