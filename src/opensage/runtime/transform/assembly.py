"""AssembleWith: how a transform job's outputs for one input object are put together in its ``.out`` object.

``None`` concatenates them as they are (binary formats, JSON documents); ``Line`` ends each
with a newline — each response for a batch passed through unchanged, each record when
records were joined or filtered one by one. A response that already ends with a newline
(XGBoost's CSV under SAGEMAKER_BATCH does) gets no second one.
"""

from __future__ import annotations

from collections.abc import Sequence


def assemble_response(body: bytes, by_line: bool) -> bytes:
    """A batch's response as it goes into the output object."""
    if by_line and body and not body.endswith(b"\n"):
        return body + b"\n"
    return body


def assemble_records(records: Sequence[bytes], by_line: bool) -> bytes:
    """Records joined or filtered one by one, as they go into the output object."""
    if by_line:
        return b"".join(record + b"\n" for record in records)
    return b"".join(records)
