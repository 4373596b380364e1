"""Read an inference request body into the matrix XGBoost predicts on, with the container's statuses.

Content types: ``text/csv`` (also when none is sent, as the container assumes), ``text/libsvm``
and ``text/x-libsvm``, ``application/x-recordio-protobuf`` (labels ignored), and, beyond the
1.7-1 container, ``application/json`` and ``application/jsonlines`` in the shapes SageMaker
documents for its built-in algorithms. Another type is 415; a body that does not parse, or
rows of another width than the model's, is 400. Imported only when a model is loaded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import sparse

from opensage.errors import InferenceError
from opensage.formats import content_type as ct
from opensage.formats.csv_payload import parse_csv_payload
from opensage.formats.errors import PayloadError, excerpt
from opensage.formats.json_payload import parse_json_payload, parse_jsonlines_payload
from opensage.formats.libsvm_payload import parse_libsvm_payload
from opensage.formats.negotiation import media_type
from opensage.formats.recordio_payload import parse_recordio_protobuf_payload

DEFAULT_REQUEST_TYPE = ct.CSV
_PARSERS: dict[str, Callable[[bytes], Any]] = {
    ct.CSV: parse_csv_payload,
    ct.LIBSVM: parse_libsvm_payload,
    ct.X_LIBSVM: parse_libsvm_payload,
    ct.RECORDIO_PROTOBUF: parse_recordio_protobuf_payload,
    ct.JSON: parse_json_payload,
    ct.JSONLINES: parse_jsonlines_payload,
}
REQUEST_TYPES = tuple(_PARSERS)


def request_media_type(header: str | None) -> str:
    """The request's media type; ``text/csv`` when no Content-Type is sent; 415 when unsupported."""
    requested = media_type(header) or DEFAULT_REQUEST_TYPE
    if requested not in _PARSERS:
        raise InferenceError(
            415,
            f"Content type {excerpt(requested, 100)} is not supported; XGBoost reads "
            f"{', '.join(REQUEST_TYPES)}",
        )
    return requested


def decode(body: bytes, requested: str) -> Any:
    """The body as a float32 array or CSR matrix (rows of features); 400 when it does not parse."""
    try:
        return _PARSERS[requested](body)
    except PayloadError as exc:
        raise InferenceError(400, f"Unable to read the {requested} request: {exc}") from exc


def fit_columns(features: Any, num_features: int) -> Any:
    """``features`` with the model's number of columns: sparse ones are widened, dense ones must match."""
    width = features.shape[1]
    if width == num_features or features.shape[0] == 0:
        return features
    if sparse.issparse(features):
        if width < num_features:
            return sparse.csr_matrix(
                (features.data, features.indices, features.indptr), shape=(features.shape[0], num_features)
            )
        raise InferenceError(
            400,
            f"The request has feature index {width - 1}, but the model has {num_features} features "
            f"(indices 0 to {num_features - 1})",
        )
    hint = " (rows hold features only: leave out the label column)" if width == num_features + 1 else ""
    raise InferenceError(
        400, f"The model expects {num_features} features per row; the request has {width}{hint}"
    )


def as_float32(features: Any) -> Any:
    """Dense features as a C-ordered float32 array, which XGBoost reads without copying."""
    if isinstance(features, np.ndarray):
        return np.ascontiguousarray(features, dtype=np.float32)
    return features
