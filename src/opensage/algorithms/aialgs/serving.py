"""``AialgsPredictor``: the ``/invocations`` contract the aialgs family shares, around an algorithm's ``Model``.

Requests (reference §0 "Inference request formats"): ``text/csv`` (no label column, or
``label_size=k`` leading columns dropped), ``application/json`` and ``application/jsonlines``
(``{"instances": [{"features": [...]}]}``, ``{"data": {"features": {"keys", "shape", "values"}}}``
sparse, one instance per line) and ``application/x-recordio-protobuf`` (``features["values"]``).

Responses: ``application/json`` (the default, or SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT)
``{"<response_key>": [{<field>: value, ...}, ...]}``, ``application/jsonlines`` (one object
per line), ``application/x-recordio-protobuf`` (one Record per row, each field a Float32Tensor
in ``label``) and, for models that document it (K-Means), ``text/csv`` (the fields in order).
Accept parameters (k-NN's ``verbose=true``) reach the model. 415 for an unsupported
Content-Type, 406 for an unsupported Accept, 400 for bad data or the wrong number of features.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import TypeAlias

import numpy as np
from scipy import sparse

from opensage.algorithms.base import Prediction, Predictor
from opensage.errors import InferenceError
from opensage.formats import content_type as ct
from opensage.formats import responses
from opensage.formats.errors import PayloadError
from opensage.formats.negotiation import choose_accept, media_type
from opensage.formats.responses import OutputField

REQUEST_TYPES = (ct.CSV, ct.JSON, ct.JSONLINES, ct.RECORDIO_PROTOBUF)
RESPONSE_TYPES = (ct.JSON, ct.JSONLINES, ct.RECORDIO_PROTOBUF)
DEFAULT_ACCEPT_ENV = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"

Features: TypeAlias = np.ndarray | sparse.csr_matrix


class Model(ABC):
    """A trained model of the family: rows in, named output fields out."""

    #: The top-level key of a JSON response (PCA: projections, RCF: scores).
    response_key: str = "predictions"
    #: Whether ``text/csv`` is a documented response type (K-Means).
    csv_response: bool = False
    #: Request types the algorithm documents (FM takes no CSV).
    request_types: tuple[str, ...] = REQUEST_TYPES

    @property
    @abstractmethod
    def feature_dim(self) -> int:
        """How many features each row must have."""

    @abstractmethod
    def predict(self, features: Features, accept_parameters: Mapping[str, str]) -> list[OutputField]:
        """One value per row in each field (float32 rows, dense or CSR, ``feature_dim`` columns)."""


class AialgsPredictor(Predictor):
    """Decodes a request, checks its width, asks the model, encodes the answer."""

    def __init__(self, model: Model, environment: Mapping[str, str]) -> None:
        self.model = model
        self.response_types = RESPONSE_TYPES + ((ct.CSV,) if model.csv_response else ())
        default = media_type(environment.get(DEFAULT_ACCEPT_ENV)) or ct.JSON
        if default not in self.response_types:
            raise InferenceError(
                500,
                f"{DEFAULT_ACCEPT_ENV}={default} is not a response type of this model; "
                f"use one of {', '.join(self.response_types)}",
            )
        self.default_accept = default

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> Prediction:
        response_type = choose_accept(accept, self.response_types, self.default_accept)
        if response_type is None:
            raise InferenceError(
                406, f"Accept {accept!r} is not supported; use {', '.join(self.response_types)}"
            )
        features = self._decode(body, content_type)
        parameters = _accept_parameters(accept, response_type)
        if features.shape[0] == 0:
            return Prediction(_empty(response_type, self.model.response_key), response_type)
        if features.shape[1] != self.model.feature_dim:
            raise InferenceError(
                400,
                f"Rows have {features.shape[1]} features; the model was trained on {self.model.feature_dim}",
            )
        fields = self.model.predict(features, parameters)
        return Prediction(_encode(fields, response_type, self.model.response_key), response_type)

    def _decode(self, body: bytes, content_type: str | None) -> Features:
        parsed = ct.parse_content_type(content_type or ct.CSV)
        if parsed.media_type not in self.model.request_types:
            raise InferenceError(
                415,
                f"Content-Type {content_type!r} is not supported; use {', '.join(self.model.request_types)}",
            )
        try:
            return _parse(body, parsed)
        except PayloadError as exc:
            raise InferenceError(400, str(exc)) from exc


def _parse(body: bytes, parsed: ct.ContentType) -> Features:
    if parsed.media_type == ct.CSV:
        from opensage.formats.csv_payload import parse_csv_payload

        table = parse_csv_payload(body)
        label_size = parsed.parameters.get("label_size", "0")
        if not label_size.isdigit():
            raise PayloadError(f"label_size={label_size} must be a non-negative integer")
        return table[:, int(label_size) :] if table.size else table
    if parsed.media_type in (ct.JSON, ct.JSONLINES):
        from opensage.formats.json_payload import parse_json_payload, parse_jsonlines_payload

        return parse_json_payload(body) if parsed.media_type == ct.JSON else parse_jsonlines_payload(body)
    from opensage.formats.recordio_payload import parse_recordio_protobuf_payload

    return parse_recordio_protobuf_payload(body)


def _accept_parameters(accept: str | None, chosen: str) -> dict[str, str]:
    """The parameters of the Accept entry that was chosen (``verbose=true``), ``q`` left out."""
    for entry in (accept or "").split(","):
        parsed = ct.parse_content_type(entry)
        if parsed.media_type == chosen:
            return {key: value for key, value in parsed.parameters.items() if key != "q"}
    return {}


def _encode(fields: Sequence[OutputField], response_type: str, key: str) -> bytes:
    if response_type == ct.JSON:
        return responses.encode_json(fields, key=key)
    if response_type == ct.JSONLINES:
        return responses.encode_jsonlines(fields)
    if response_type == ct.CSV:
        return responses.encode_csv_fields(fields, trailing_newline=True)
    return responses.encode_recordio_protobuf(fields)


def _empty(response_type: str, key: str) -> bytes:
    return f'{{"{key}": []}}'.encode() if response_type == ct.JSON else b""
