"""S3 object headers: what a PUT asks the store to keep and verify, and what a GET or HEAD answers."""

from __future__ import annotations

import base64
import email.utils
from collections.abc import Iterable
from datetime import UTC, datetime

from starlette.datastructures import Headers

from opensage.errors import InvalidArgument, S3NotImplemented
from opensage.objects.base import CHECKSUM_ALGORITHMS, ObjectInfo, WriteOptions
from opensage.objects.checksums import decode_checksum, decode_content_md5, normalize_algorithms
from opensage.objects.encryption import SSE_KMS, check_algorithm

DEFAULT_CONTENT_TYPE = "binary/octet-stream"
META_PREFIX = "x-amz-meta-"
# Standard headers S3 keeps with an object and returns on GET and HEAD.
STORED_HEADERS = ("cache-control", "content-disposition", "content-encoding", "content-language", "expires")
# GET parameters that override a response header, as S3's response-* query parameters do.
RESPONSE_OVERRIDES = {
    "response-content-type": "content-type",
    "response-content-language": "content-language",
    "response-expires": "expires",
    "response-cache-control": "cache-control",
    "response-content-disposition": "content-disposition",
    "response-content-encoding": "content-encoding",
}
_CHECKSUM_PREFIX = "x-amz-checksum-"
SSE_HEADER = "x-amz-server-side-encryption"
KMS_KEY_HEADER = "x-amz-server-side-encryption-aws-kms-key-id"
_NOT_CHECKSUMS = {"x-amz-checksum-algorithm", "x-amz-checksum-mode", "x-amz-checksum-type"}


def checksum_header(algorithm: str) -> str:
    return _CHECKSUM_PREFIX + algorithm.lower()


def sent_checksums(headers: Headers) -> dict[str, str]:
    """Algorithm -> value of every ``x-amz-checksum-<algorithm>`` header sent."""
    found: dict[str, str] = {}
    for name, value in headers.items():
        if not name.startswith(_CHECKSUM_PREFIX) or name in _NOT_CHECKSUMS:
            continue
        algorithm = name[len(_CHECKSUM_PREFIX) :].upper()
        found[supported_algorithm(algorithm)] = value
        decode_checksum(algorithm, value)
    return found


def supported_algorithm(algorithm: str) -> str:
    """``algorithm`` if the store implements it; S3NotImplemented (e.g. CRC64NVME) otherwise."""
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise S3NotImplemented(
            f"Checksum algorithm {algorithm} is not implemented; use one of {', '.join(CHECKSUM_ALGORITHMS)}."
        )
    return algorithm


def requested_algorithms(headers: Headers, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """Algorithms the client asked to be computed and kept (sdk, create-upload and trailer headers)."""
    names = [*extra]
    for header in ("x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"):
        value = headers.get(header)
        if value:
            names.append(supported_algorithm(value.strip().upper()))
    try:
        return normalize_algorithms(names)
    except InvalidArgument as exc:
        raise S3NotImplemented(str(exc)) from exc


def write_options(
    headers: Headers, trailer_algorithms: Iterable[str] = (), verify_body: bool = True
) -> WriteOptions:
    """The store's WriteOptions for a PUT, CreateMultipartUpload (``verify_body`` False) or UploadPart."""
    content_md5 = headers.get("content-md5") if verify_body else None
    if content_md5 is not None:
        decode_content_md5(content_md5)
    expected = sent_checksums(headers) if verify_body else {}
    sse, kms_key_id = requested_encryption(headers)
    return WriteOptions(
        content_type=headers.get("content-type") or DEFAULT_CONTENT_TYPE,
        metadata=user_metadata(headers),
        headers=stored_headers(headers),
        content_md5=content_md5,
        expected_checksums=expected,
        checksum_algorithms=requested_algorithms(headers, [*expected, *trailer_algorithms]),
        sse=sse,
        sse_kms_key_id=kms_key_id,
    )


SSE_HEADER = "x-amz-server-side-encryption"
KMS_KEY_HEADER = "x-amz-server-side-encryption-aws-kms-key-id"


def requested_encryption(headers: Headers) -> tuple[str | None, str | None]:
    """(algorithm, KMS key id) a write asks for; (None, None) leaves it to the bucket's default."""
    algorithm = headers.get(SSE_HEADER)
    key_id = headers.get(KMS_KEY_HEADER) or None
    if algorithm is None:
        if key_id is not None:
            raise InvalidArgument(
                f"{KMS_KEY_HEADER} is only valid with {SSE_HEADER}: {SSE_KMS}; send that header too."
            )
        return None, None
    check_algorithm(algorithm)
    if key_id is not None and algorithm != SSE_KMS:
        raise InvalidArgument(f"A KMS key id may only be given with {SSE_HEADER}: {SSE_KMS}.")
    return algorithm, key_id


def encryption_headers(info: ObjectInfo) -> dict[str, str]:
    """What PUT, GET, HEAD, copy and multipart completion answer about an object's encryption."""
    if info.sse is None:
        return {}
    found = {SSE_HEADER: info.sse}
    if info.sse_kms_key_id:
        found[KMS_KEY_HEADER] = info.sse_kms_key_id
    return found


def user_metadata(headers: Headers) -> dict[str, str]:
    return {
        name[len(META_PREFIX) :]: value for name, value in headers.items() if name.startswith(META_PREFIX)
    }


def stored_headers(headers: Headers) -> dict[str, str]:
    kept: dict[str, str] = {}
    for name in STORED_HEADERS:
        value = headers.get(name)
        if name == "content-encoding" and value is not None:
            value = strip_aws_chunked(value)
        if value:
            kept[name] = value
    return kept


def strip_aws_chunked(content_encoding: str) -> str:
    """The Content-Encoding to keep: S3 drops the ``aws-chunked`` transfer coding from it."""
    codings = [coding.strip() for coding in content_encoding.split(",")]
    return ",".join(coding for coding in codings if coding and coding.lower() != "aws-chunked")


def is_aws_chunked(headers: Headers) -> bool:
    encodings = [coding.strip().lower() for coding in headers.get("content-encoding", "").split(",")]
    return "aws-chunked" in encodings or headers.get("x-amz-content-sha256", "").startswith("STREAMING-")


def http_date(moment: datetime) -> str:
    """RFC 1123 date, as in Last-Modified."""
    return email.utils.format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def parse_http_date(value: str | None) -> datetime | None:
    """A date header's value, or None if absent or unparseable (then it is ignored, as S3 does)."""
    if not value:
        return None
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def header_value(value: str) -> str:
    """``value`` as an HTTP header can carry it: non-ASCII text RFC 2047-encoded, as S3 returns it."""
    if value.isascii():
        return value
    return "=?UTF-8?B?" + base64.b64encode(value.encode("utf-8")).decode("ascii") + "?="


def quoted_etag(etag: str) -> str:
    return f'"{etag}"'


def checksum_headers(info: ObjectInfo) -> dict[str, str]:
    found = {checksum_header(name): value for name, value in info.checksums.items()}
    if found:
        # Checksums are computed over the whole object, also after a multipart upload.
        found["x-amz-checksum-type"] = "FULL_OBJECT"
    return found


def object_headers(info: ObjectInfo, with_checksums: bool) -> dict[str, str]:
    """Headers describing an object on GET and HEAD (Content-Length is added by the caller)."""
    result = {
        "etag": quoted_etag(info.etag),
        "last-modified": http_date(info.last_modified),
        "content-type": info.content_type,
        "accept-ranges": "bytes",
    }
    result.update({name: header_value(value) for name, value in info.headers.items()})
    result.update({META_PREFIX + name: header_value(value) for name, value in info.metadata.items()})
    if with_checksums:
        result.update(checksum_headers(info))
    result.update(encryption_headers(info))
    return result
