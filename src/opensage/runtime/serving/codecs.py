"""The default decoders and encoders of SageMaker's framework inference toolkits: JSON, CSV and NPY.

A request is ``application/json`` (one JSON list, as a NumPy array), ``text/csv`` (rows of
numbers, a two-dimensional float32 array: one row per line, as the PyTorch toolkit documents,
also for a single line) or ``application/x-npy`` (a NumPy ``.npy`` array, read without
pickles). A response is one of the same three, picked from the Accept header (``*/*`` or
none: the container's default). Another request type is 415, another Accept 406, a body that
does not parse 400. Imported by model servers only: it loads numpy.
"""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np

from opensage.errors import InferenceError
from opensage.formats import content_type as ct
from opensage.formats.csv_payload import parse_csv_payload
from opensage.formats.errors import PayloadError, excerpt
from opensage.formats.negotiation import choose_accept, media_type

JSON = ct.JSON
CSV = ct.CSV
NPY = "application/x-npy"
#: Bodies the toolkits hand to ``input_fn`` as ``str`` (UTF-8 decoded); every other body is ``bytes``.
TEXT_TYPES = (JSON, CSV)
REQUEST_TYPES = (JSON, CSV, NPY)
RESPONSE_TYPES = (JSON, CSV, NPY)
#: The toolkits' answer to no Accept (or ``*/*``) unless SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT says.
DEFAULT_ACCEPT = JSON


def is_text(content_type: str | None) -> bool:
    """Whether the toolkits pass a body of this type to ``input_fn`` as text."""
    return media_type(content_type) in TEXT_TYPES


def as_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InferenceError(400, f"The request body is not UTF-8 text (byte {exc.start})") from exc


def decode(body: bytes | str, content_type: str | None) -> np.ndarray:
    """The request as a NumPy array; 415 for a type other than JSON, CSV and NPY, 400 when it does not parse."""
    requested = media_type(content_type)
    if requested == JSON:
        return _json_array(body if isinstance(body, str) else as_text(body))
    if requested == CSV:
        try:
            return parse_csv_payload(body.encode("utf-8") if isinstance(body, str) else body)
        except PayloadError as exc:
            raise InferenceError(400, f"Unable to read the text/csv request: {exc}") from exc
    if requested == NPY:
        return _npy_array(body.encode("latin-1") if isinstance(body, str) else body)
    raise InferenceError(
        415,
        f"Content type {excerpt(content_type or '(none)', 100)} is not supported by the default input_fn, "
        f"which reads {', '.join(REQUEST_TYPES)}; define input_fn in your inference script for others",
    )


def decode_floats(body: bytes | str, content_type: str | None) -> np.ndarray:
    """``decode``, with text requests as float32 (as the scikit-learn and PyTorch toolkits do); NPY keeps its dtype."""
    array = decode(body, content_type)
    if media_type(content_type) not in TEXT_TYPES:
        return array
    try:
        return array.astype(np.float32)
    except (TypeError, ValueError) as exc:
        raise InferenceError(400, f"The request holds values that are not numbers: {exc}") from exc


def _json_array(text: str) -> np.ndarray:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise InferenceError(400, f"The application/json request is not valid JSON: {exc}") from exc
    if not isinstance(document, list):
        raise InferenceError(
            400,
            "The default input_fn reads one JSON list (of rows); define input_fn in your inference "
            f"script to read a JSON {type(document).__name__}",
        )
    try:
        return np.array(document)
    except ValueError as exc:  # ragged lists
        raise InferenceError(400, f"The JSON list is not an array: {exc}") from exc


def _npy_array(body: bytes) -> np.ndarray:
    try:
        # Without pickles: a request must not be able to run code in the model server.
        loaded = np.load(io.BytesIO(body), allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise InferenceError(400, f"The application/x-npy request is not a NumPy .npy array: {exc}") from exc
    if not isinstance(loaded, np.ndarray):
        raise InferenceError(400, "The application/x-npy request holds an .npz archive, not one array")
    return loaded


def response_type(accept: str | None, default: str = DEFAULT_ACCEPT) -> str:
    """The media type to answer with; 406 when the Accept header names none of JSON, CSV and NPY."""
    chosen = choose_accept(accept, RESPONSE_TYPES, default)
    if chosen is None:
        raise InferenceError(
            406,
            f"Accept type {excerpt(accept or '', 100)} is not supported by the default output_fn, which "
            f"writes {', '.join(RESPONSE_TYPES)}; define output_fn in your inference script for others",
        )
    return chosen


def encode(prediction: Any, accept: str | None, default: str = DEFAULT_ACCEPT) -> tuple[bytes, str]:
    """The prediction (an array, a list or a number) in the type Accept asks for, and that type."""
    chosen = response_type(accept, default)
    try:
        if chosen == JSON:
            return json.dumps(prediction, default=_listed).encode("utf-8"), chosen
        if chosen == CSV:
            return _csv(prediction), chosen
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(prediction), allow_pickle=False)
        return buffer.getvalue(), chosen
    except (TypeError, ValueError) as exc:
        raise InferenceError(
            500, f"The prediction ({type(prediction).__name__}) cannot be written as {chosen}: {exc}"
        ) from exc


def _listed(value: Any) -> Any:
    # NumPy arrays and scalars, and torch tensors, all know how to become plain lists and numbers.
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _csv(prediction: Any) -> bytes:
    """One line per row (a 1-D prediction: one value per line), as ``numpy.savetxt`` writes it."""
    stream = io.StringIO()
    np.savetxt(stream, np.atleast_1d(np.asarray(prediction)), delimiter=",", fmt="%s")
    return stream.getvalue().encode("utf-8")
