"""Load a model's containers into predictors and run them as SageMaker runs an inference pipeline.

A container is a built-in algorithm or a user's inference script (``scripts.py``); a
pipeline may mix them. Containers run in sequence, each response becoming the next request (its content type
too). The client's Accept goes to the last container only; intermediate containers answer
in their default format (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT), as SageMaker documents.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from opensage.algorithms.base import Prediction, Predictor, ServingAlgorithm
from opensage.algorithms.registry import load_algorithm
from opensage.errors import InferenceError
from opensage.runtime.serving.spec import ContainerSpec, ScriptSpec


def load_container(spec: ContainerSpec, model_dir: Path | None = None, *, mounted: bool = False) -> Predictor:
    """The container's predictor; ``mounted``: its model is at /opt/ml/model (see ``staging.py``)."""
    if spec.script is not None:
        return _load_script(spec, spec.script, mounted)
    algorithm = load_algorithm(spec.algorithm)
    if not isinstance(algorithm, ServingAlgorithm):
        raise InferenceError(500, f"The {spec.algorithm} algorithm cannot be hosted")
    folder = model_dir or (Path(spec.model_dir) if spec.model_dir else None)
    if folder is None:
        raise InferenceError(500, f"The {spec.algorithm} container has no model data")
    return algorithm.load_predictor(folder, spec.environment)


def _load_script(spec: ContainerSpec, script: ScriptSpec, mounted: bool) -> Predictor:
    from opensage.runtime.serving.scripts import load_script
    from opensage.runtime.serving.staging import mounted_paths

    model_dir, code_dir = Path(spec.model_dir or ""), Path(script.code_dir)
    if mounted:
        model_dir, code_dir = mounted_paths(model_dir, code_dir)
    return load_script(script, model_dir, code_dir, spec.environment)


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
