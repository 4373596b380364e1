"""Write prediction responses in the Accept types SageMaker's XGBoost 1.7-1 container answers with.

``application/json``, ``application/jsonlines``, ``application/x-recordio-protobuf`` and
``text/csv``; no Accept or ``*/*`` means SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else
``text/csv``; anything else is 406. The response's Content-Type is the bare media type.
"""

from __future__ import annotations

from collections.abc import Sequence

from opensage.errors import InferenceError
from opensage.formats import content_type as ct
from opensage.formats.errors import excerpt
from opensage.formats.negotiation import choose_accept, media_type
from opensage.formats.responses import (
    OutputField,
    encode_csv,
    encode_csv_fields,
    encode_json,
    encode_jsonlines,
    encode_recordio_protobuf,
)

RESPONSE_TYPES = (ct.JSON, ct.JSONLINES, ct.RECORDIO_PROTOBUF, ct.CSV)
DEFAULT_RESPONSE_TYPE = ct.CSV


def default_response_type(setting: str | None) -> str:
    """The media type SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT names (``text/csv`` when unset).

    Raises ``ValueError`` for a type the container cannot answer with.
    """
    chosen = media_type(setting) or DEFAULT_RESPONSE_TYPE
    if chosen not in RESPONSE_TYPES:
        raise ValueError(
            f"SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT is {setting!r}; XGBoost answers with "
            f"{', '.join(RESPONSE_TYPES)}"
        )
    return chosen


def response_media_type(header: str | None, default: str) -> str:
    """The response type an Accept header asks for; 406 when it names none XGBoost writes."""
    chosen = choose_accept(header, RESPONSE_TYPES, default)
    if chosen is None:
        raise InferenceError(
            406,
            f"Accept type {excerpt(header or '', 100)} is not supported; XGBoost answers with "
            f"{', '.join(RESPONSE_TYPES)}",
        )
    return chosen


def encode(fields: Sequence[OutputField], media: str, *, selected: bool, batch: bool) -> bytes:
    """The response body: raw predictions (one ``score`` field) or the selected output keys.

    Raw predictions in CSV are laid out as ``numpy.savetxt`` writes them; selected keys are one
    line per row, which ends with a newline only under batch transform, as in the container.
    """
    if media == ct.JSON:
        return encode_json(fields)
    if media == ct.JSONLINES:
        return encode_jsonlines(fields)
    if media == ct.RECORDIO_PROTOBUF:
        return encode_recordio_protobuf(fields)
    if selected:
        return encode_csv_fields(fields, trailing_newline=batch)
    return encode_csv(fields[0].values)
