"""``XGBoostPredictor``: SageMaker's XGBoost 1.7-1 ``/invocations`` contract on xgboost's in-place prediction.

The model server calls ``predict`` on its event-loop thread, so a one-row request does the
least it can: no DMatrix, no copies of dense input, the Accept and Content-Type of the last
requests remembered. Imported only when a model is loaded (numpy, xgboost).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xgboost.core import XGBoostError

from opensage.algorithms.base import Prediction, Predictor
from opensage.algorithms.xgboost import decoders, encoders, outputs
from opensage.algorithms.xgboost.ensemble import Ensemble
from opensage.algorithms.xgboost.errors import clean_xgboost_message
from opensage.algorithms.xgboost.model_files import ModelFileError, load_booster, model_paths
from opensage.errors import InferenceError
from opensage.formats import csv_payload

if TYPE_CHECKING:
    from opensage.formats.responses import OutputField

DEFAULT_ACCEPT_ENV = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
OUTPUT_ENV = "SAGEMAKER_INFERENCE_OUTPUT"
ENSEMBLE_ENV = "SAGEMAKER_INFERENCE_ENSEMBLE"
BATCH_ENV = "SAGEMAKER_BATCH"
# Headers seen per predictor are few (one client library sends the same ones); bound it anyway.
_HEADER_CACHE_SIZE = 64


@dataclass(frozen=True)
class ServingOptions:
    """What the container's environment decides: the default Accept, batch mode, selected outputs."""

    default_accept: str
    batch: bool
    output_keys: tuple[str, ...] | None


def load_predictor(model_dir: Path, environment: Mapping[str, str]) -> XGBoostPredictor:
    """Load every model file to serve and check the environment; a problem raises ``InferenceError(500)``.

    An unknown SAGEMAKER_INFERENCE_OUTPUT key fails here, so an endpoint that could answer no
    request fails to start and says why, rather than answering every request with an error.
    """
    ensemble = environment.get(ENSEMBLE_ENV, "true").strip().lower() != "false"
    try:
        model = Ensemble([load_booster(path) for path in model_paths(model_dir, ensemble=ensemble)])
        options = _options(environment, model.objective)
    except (ModelFileError, ValueError) as exc:
        raise InferenceError(500, str(exc)) from exc
    csv_payload.warm_up()
    return XGBoostPredictor(model, options)


def _options(environment: Mapping[str, str], objective: str) -> ServingOptions:
    selection = environment.get(OUTPUT_ENV, "").strip()
    return ServingOptions(
        default_accept=encoders.default_response_type(environment.get(DEFAULT_ACCEPT_ENV)),
        batch=environment.get(BATCH_ENV, "").strip().lower() == "true",
        output_keys=outputs.parse_output_keys(selection, objective) if selection else None,
    )


class XGBoostPredictor(Predictor):
    """One loaded model (a booster or an ensemble of folds) answering ``/invocations``."""

    def __init__(self, model: Ensemble, options: ServingOptions) -> None:
        self.model = model
        self.options = options
        self._response_types: dict[str | None, str] = {}
        self._request_types: dict[str | None, str] = {}

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> Prediction:
        response_type = self._response_type(accept)
        request_type = self._request_type(content_type)
        if not body:
            # The container answers 204 No Content; the model server may do the same.
            return Prediction(b"", response_type)
        features = decoders.decode(body, request_type)
        features = decoders.fit_columns(features, self.model.num_features)
        fields = self._fields(decoders.as_float32(features))
        selected = self.options.output_keys is not None
        encoded = encoders.encode(fields, response_type, selected=selected, batch=self.options.batch)
        return Prediction(encoded, response_type)

    def _response_type(self, accept: str | None) -> str:
        known = self._response_types.get(accept)
        if known is None:
            known = encoders.response_media_type(accept, self.options.default_accept)
            _remember(self._response_types, accept, known)
        return known

    def _request_type(self, content_type: str | None) -> str:
        known = self._request_types.get(content_type)
        if known is None:
            known = decoders.request_media_type(content_type)
            _remember(self._request_types, content_type, known)
        return known

    def _fields(self, features: Any) -> list[OutputField]:
        if features.shape[0] == 0:
            predictions = outputs.Predictions(
                self.model.empty_prediction(), lambda: self.model.empty_prediction(margin=True)
            )
        else:
            predictions = outputs.Predictions(self._run(features), lambda: self._run(features, margin=True))
        keys = self.options.output_keys
        if keys is None:
            return outputs.default_fields(predictions)
        return outputs.selected_fields(keys, self.model.objective, self.model.num_class, predictions)

    def _run(self, features: Any, *, margin: bool = False) -> Any:
        try:
            return self.model.predict(features, margin=margin)
        except XGBoostError as exc:
            message = clean_xgboost_message(str(exc))
            raise InferenceError(400, f"XGBoost cannot predict on the request: {message}") from exc


def _remember(cache: dict[str | None, str], header: str | None, value: str) -> None:
    if len(cache) >= _HEADER_CACHE_SIZE:
        cache.clear()
    cache[header] = value
