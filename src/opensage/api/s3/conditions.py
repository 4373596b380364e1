"""Conditional requests (If-Match and friends) and byte ranges, decided against an object's ETag and date."""

from __future__ import annotations

import re
from datetime import datetime

from starlette.datastructures import Headers

from opensage.api.s3.headers import parse_http_date
from opensage.errors import InvalidRange, PreconditionFailed
from opensage.objects.base import ObjectInfo

_RANGE = re.compile(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*")


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-Match / If-None-Match list names ``etag`` (or is ``*``)."""
    for candidate in header.split(","):
        value = candidate.strip()
        if value == "*":
            return True
        if value.startswith("W/"):
            value = value[2:]
        if value.strip('"') == etag:
            return True
    return False


def _modified_since(info: ObjectInfo, moment: datetime) -> bool:
    # HTTP dates have whole seconds; compare at that resolution.
    return int(info.last_modified.timestamp()) > int(moment.timestamp())


def evaluate(headers: Headers, info: ObjectInfo, prefix: str = "") -> int | None:
    """None when the request may proceed, else 304 (not modified) or 412 (precondition failed).

    Follows RFC 9110 §13.2.2, as S3 does: If-Match before If-Unmodified-Since, If-None-Match
    before If-Modified-Since. ``prefix`` reads the ``x-amz-copy-source-`` variants.
    """
    if_match = headers.get(prefix + "if-match")
    if if_match is not None:
        if not etag_matches(if_match, info.etag):
            return 412
    else:
        unmodified_since = parse_http_date(headers.get(prefix + "if-unmodified-since"))
        if unmodified_since is not None and _modified_since(info, unmodified_since):
            return 412
    if_none_match = headers.get(prefix + "if-none-match")
    if if_none_match is not None:
        if etag_matches(if_none_match, info.etag):
            return 304
    else:
        modified_since = parse_http_date(headers.get(prefix + "if-modified-since"))
        if modified_since is not None and not _modified_since(info, modified_since):
            return 304
    return None


def require_source_conditions(headers: Headers, info: ObjectInfo) -> None:
    """CopyObject's x-amz-copy-source-if-* headers; every failure is a 412."""
    if evaluate(headers, info, prefix="x-amz-copy-source-") is not None:
        raise PreconditionFailed("At least one of the pre-conditions you specified did not hold.")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """The (first, last) bytes a Range header asks for, None to send the whole object.

    A header that is not a single ``bytes=`` range is ignored, as HTTP allows; a range that
    starts past the end is InvalidRange (416).
    """
    if header is None:
        return None
    match = _RANGE.fullmatch(header)
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first_text, last_text = match.groups()
    if first_text == "":
        suffix = int(last_text)
        if suffix == 0 or size == 0:
            raise _unsatisfiable(header, size)
        return max(0, size - suffix), size - 1
    first = int(first_text)
    last = int(last_text) if last_text else size - 1
    if last_text and last < first:
        return None
    if first >= size:
        raise _unsatisfiable(header, size)
    return first, min(last, size - 1)


def _unsatisfiable(header: str, size: int) -> InvalidRange:
    return InvalidRange(
        f"The requested range {header.strip()!r} is not satisfiable; the object has {size} bytes."
    )
