"""Verifying AWS Signature Version 4 with botocore's own signing code.

The canonical request and the string to sign come from ``botocore.auth`` (``SigV4Auth``,
``S3SigV4Auth`` and their presigned ``*QueryAuth`` forms), fed the request exactly as it
came off the wire: raw path, raw query, only the headers the client signed. So whatever
boto3 signs, the server computes the same way. Only the HMAC chain is done here, because
the derived signing key (secret → date → region → service) is cached per key and day.

The payload hash in the canonical request is whatever the client put in
``x-amz-content-sha256`` (a hex digest, ``UNSIGNED-PAYLOAD`` or one of the ``STREAMING-*``
forms); without that header (the JSON services) it is the hash of the body. A hex digest
is only a promise about the body: the caller checks the body against
``Verification.payload_sha256`` as it streams. A signed streaming body
(``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]``) is likewise checked chunk by chunk
against ``Verification.chunk_signing``: this request's signature and signing key, the
seed of the chain in ``security.chunk_signatures``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import threading
import time
from calendar import timegm
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth, SigV4QueryAuth
from botocore.awsrequest import HTTPHeaders
from botocore.credentials import Credentials as BotocoreCredentials

from opensage.errors import (
    InvalidRequest,
    MalformedAuthorizationError,
    MissingAuthenticationError,
    PresignedUrlExpiredError,
    SignatureExpiredError,
    SignatureMismatchError,
    UnknownAccessKeyError,
)
from opensage.security.chunk_signatures import (
    SIGNED_STREAMING_PAYLOAD,
    SIGNED_STREAMING_PAYLOAD_TRAILER,
    ChunkSigning,
)
from opensage.security.keys import KnownKey
from opensage.security.principal import Principal

ALGORITHM = "AWS4-HMAC-SHA256"
# AWS accepts requests signed up to 15 minutes before or after its own clock.
MAX_SKEW_SECONDS = 15 * 60
# A presigned URL lives at most seven days.
MAX_PRESIGN_SECONDS = 7 * 24 * 3600
_SIGNATURE_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
)
_S3_SERVICE = "s3"
_HEX = frozenset("0123456789abcdef")


@dataclass(frozen=True)
class WireRequest:
    """A request as it arrived: the raw path and query, header names lower-cased."""

    method: str
    raw_path: str
    query_string: str
    headers: dict[str, str]

    @functools.cached_property
    def signed(self) -> _Signed:
        """The signature's parts, parsed once: routing reads the credential scope, then verification."""
        return _parse(self)


@dataclass(frozen=True)
class Verification:
    principal: Principal
    region: str
    service: str
    #: The hex sha256 the body was signed as, when the body is still to be checked against it.
    payload_sha256: str | None
    #: For a signed streaming body: what its chunk signatures are to be checked with.
    chunk_signing: ChunkSigning | None = None


@dataclass(frozen=True)
class _Signed:
    """What a signature claims: key, scope, time, signed headers and the signature itself."""

    access_key_id: str
    date: str
    region: str
    service: str
    timestamp: str
    signed_headers: list[str]
    signature: str
    presigned_expires: int | None


def join_headers(raw: Sequence[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers as one value per lower-case name (repeats joined with ',' as SigV4 does)."""
    headers: dict[str, str] = {}
    for name, value in raw:
        key = name.decode("latin-1").lower()
        text = " ".join(value.decode("latin-1").split())
        headers[key] = f"{headers[key]},{text}" if key in headers else text
    return headers


def is_signed(request: WireRequest) -> bool:
    return "authorization" in request.headers or "X-Amz-Signature=" in request.query_string


def credential_service(request: WireRequest) -> str | None:
    """The service named in the signature's credential scope, read without verifying anything."""
    try:
        return request.signed.service
    except (MissingAuthenticationError, MalformedAuthorizationError):
        return None


class SigV4Verifier:
    """Checks requests against the platform's access keys."""

    def __init__(self, lookup: Callable[[str], KnownKey | None], clock: Callable[[], float] = time.time):
        self._lookup = lookup
        self._clock = clock
        self._signing_keys: dict[tuple[str, str, str, str], bytes] = {}
        self._lock = threading.Lock()

    def verify(self, request: WireRequest, body: bytes | None) -> Verification:
        """The verified identity, or an AuthenticationError naming what is wrong.

        ``body`` is the whole payload for services whose canonical request hashes it (no
        ``x-amz-content-sha256``); S3 bodies stream and are checked by the caller.
        """
        signed = request.signed
        known = self._lookup(signed.access_key_id)
        if known is None:
            raise UnknownAccessKeyError(
                "The AWS Access Key Id you provided does not exist in our records."
                if signed.service == _S3_SERVICE
                else "The security token included in the request is invalid."
            )
        self._check_time(signed)
        content_sha256 = request.headers.get("x-amz-content-sha256")
        header_form_s3 = signed.service == _S3_SERVICE and signed.presigned_expires is None
        if header_form_s3 and (content_sha256 is None or "x-amz-content-sha256" not in signed.signed_headers):
            raise InvalidRequest("Missing required header for this request: x-amz-content-sha256")
        string_to_sign = _string_to_sign(request, signed, known, body)
        key = self._signing_key(known.secret_access_key, signed)
        expected = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        # As bytes: compare_digest refuses str with non-ASCII characters (a TypeError, not a refusal).
        if not hmac.compare_digest(expected.encode("ascii"), signed.signature.encode("utf-8", "replace")):
            raise SignatureMismatchError(_SIGNATURE_MISMATCH)
        payload = content_sha256 if content_sha256 is not None and _is_hex_digest(content_sha256) else None
        chunk_signing = _chunk_signing(signed, key, content_sha256)
        return Verification(known.principal, signed.region, signed.service, payload, chunk_signing)

    def _check_time(self, signed: _Signed) -> None:
        try:
            signed_at = _epoch(signed.timestamp)
        except ValueError as exc:
            raise MalformedAuthorizationError(
                f"X-Amz-Date {signed.timestamp!r} is not a date in the form YYYYMMDD'T'HHMMSS'Z'"
            ) from exc
        now = self._clock()
        if signed.presigned_expires is not None:
            if now > signed_at + signed.presigned_expires:
                raise PresignedUrlExpiredError("Request has expired")
            if signed_at - now > MAX_SKEW_SECONDS:
                raise SignatureExpiredError(f"Signature not yet current: {signed.timestamp} is in the future")
            return
        if abs(now - signed_at) > MAX_SKEW_SECONDS:
            limit = _stamp(now - MAX_SKEW_SECONDS if signed_at < now else now + MAX_SKEW_SECONDS)
            if signed_at < now:
                message = f"Signature expired: {signed.timestamp} is now earlier than {limit} ({_stamp(now)} - 15 min.)"
            else:
                message = (
                    f"Signature not yet current: {signed.timestamp} is still later than {limit} "
                    f"({_stamp(now)} + 15 min.)"
                )
            raise SignatureExpiredError(message)

    def _signing_key(self, secret: str, signed: _Signed) -> bytes:
        cache_key = (secret, signed.date, signed.region, signed.service)
        with self._lock:
            found = self._signing_keys.get(cache_key)
        if found is not None:
            return found
        key = (f"AWS4{secret}").encode()
        for part in (signed.date, signed.region, signed.service, "aws4_request"):
            key = hmac.new(key, part.encode("utf-8"), hashlib.sha256).digest()
        with self._lock:
            # Keys change daily; dropping them all now and then keeps the cache small.
            if len(self._signing_keys) > 4096:
                self._signing_keys.clear()
            self._signing_keys[cache_key] = key
        return key


def _chunk_signing(signed: _Signed, key: bytes, content_sha256: str | None) -> ChunkSigning | None:
    """The seed of a signed streaming body's chain: this signature, under this key and scope."""
    if content_sha256 not in (SIGNED_STREAMING_PAYLOAD, SIGNED_STREAMING_PAYLOAD_TRAILER):
        return None
    scope = f"{signed.date}/{signed.region}/{signed.service}/aws4_request"
    has_trailer = content_sha256 == SIGNED_STREAMING_PAYLOAD_TRAILER
    return ChunkSigning(key, signed.timestamp, scope, signed.signature, has_trailer)


def _stamp(seconds: float) -> str:
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(seconds))


def _is_hex_digest(value: str) -> bool:
    return len(value) == 64 and set(value) <= _HEX


def _parse(request: WireRequest) -> _Signed:
    authorization = request.headers.get("authorization")
    if authorization is not None:
        return _parse_header(authorization, request.headers)
    if "X-Amz-Signature=" in request.query_string or "X-Amz-Credential=" in request.query_string:
        return _parse_query(request.query_string)
    if "AWSAccessKeyId=" in request.query_string:
        raise MalformedAuthorizationError(
            "opensage accepts only AWS Signature Version 4; presign S3 URLs with "
            "botocore Config(signature_version='s3v4')"
        )
    raise MissingAuthenticationError("Missing Authentication Token")


def _parse_header(authorization: str, headers: dict[str, str]) -> _Signed:
    algorithm, _, rest = authorization.partition(" ")
    if algorithm != ALGORITHM:
        raise MalformedAuthorizationError(
            "opensage accepts only AWS Signature Version 4 (AWS4-HMAC-SHA256) in the Authorization header"
        )
    parts: dict[str, str] = {}
    for item in rest.split(","):
        name, _, value = item.strip().partition("=")
        parts[name] = value
    try:
        credential, signed_headers, signature = (
            parts["Credential"],
            parts["SignedHeaders"],
            parts["Signature"],
        )
    except KeyError as exc:
        raise MalformedAuthorizationError(
            f"Authorization header requires '{exc.args[0]}' parameter. Authorization={authorization[:200]}"
        ) from exc
    timestamp = headers.get("x-amz-date")
    if timestamp is None:
        raise MalformedAuthorizationError(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."
        )
    return _signed(credential, signed_headers, signature, timestamp, None)


def _parse_query(query_string: str) -> _Signed:
    params = dict(parse_qsl(query_string, keep_blank_values=True))
    if params.get("X-Amz-Algorithm") != ALGORITHM:
        raise MalformedAuthorizationError("X-Amz-Algorithm must be AWS4-HMAC-SHA256 in a presigned URL")
    try:
        credential, signed_headers = params["X-Amz-Credential"], params["X-Amz-SignedHeaders"]
        signature, timestamp, expires = (
            params["X-Amz-Signature"],
            params["X-Amz-Date"],
            params["X-Amz-Expires"],
        )
    except KeyError as exc:
        raise MalformedAuthorizationError(f"The presigned URL has no {exc.args[0]} parameter") from exc
    if not expires.isdigit() or not 1 <= int(expires) <= MAX_PRESIGN_SECONDS:
        raise MalformedAuthorizationError(
            f"X-Amz-Expires must be between 1 and {MAX_PRESIGN_SECONDS} seconds (seven days)"
        )
    return _signed(credential, signed_headers, signature, timestamp, int(expires))


def _signed(
    credential: str, signed_headers: str, signature: str, timestamp: str, expires: int | None
) -> _Signed:
    pieces = credential.split("/")
    if len(pieces) != 5 or pieces[4] != "aws4_request" or not all(pieces):
        raise MalformedAuthorizationError(
            f"The credential {pieces[0]}/... is not of the form "
            "<key id>/<YYYYMMDD>/<region>/<service>/aws4_request"
        )
    key_id, date, region, service, _ = pieces
    if timestamp[:8] != date:
        raise MalformedAuthorizationError(
            f"The credential's date {date} is not the date of X-Amz-Date {timestamp}"
        )
    return _Signed(key_id, date, region, service, timestamp, signed_headers.split(";"), signature, expires)


def _string_to_sign(request: WireRequest, signed: _Signed, known: KnownKey, body: bytes | None) -> str:
    """botocore's string to sign for the request as the client saw it."""
    missing = [name for name in signed.signed_headers if name not in request.headers and name != "host"]
    if missing:
        raise SignatureMismatchError(f"{_SIGNATURE_MISMATCH} (signed header {missing[0]!r} was not sent)")
    headers = {name: request.headers.get(name, "") for name in signed.signed_headers}
    if signed.presigned_expires is not None:
        # The canonical query is every parameter but the signature itself.
        query = "&".join(
            pair for pair in request.query_string.split("&") if not pair.startswith("X-Amz-Signature=")
        )
    else:
        query = request.query_string
    url = f"http://{request.headers.get('host', 'localhost')}{request.raw_path}" + (
        f"?{query}" if query else ""
    )
    aws_request = _SigningView(request.method, url, headers, body or b"", signed.timestamp)
    credentials = BotocoreCredentials(signed.access_key_id, known.secret_access_key)
    signer = _signer_class(signed)(credentials, signed.service, signed.region)
    return str(signer.string_to_sign(aws_request, signer.canonical_request(aws_request)))


class _SigningView:
    """What botocore's signers read of a request: method, url, headers, body, params, context.

    An AWSRequest would do as well, but it prepares the whole request again (URL, headers and
    body) each time its body is read, which is most of the cost of verifying a small request.
    """

    def __init__(self, method: str, url: str, headers: dict[str, str], body: bytes, timestamp: str) -> None:
        self.method = method
        self.url = url
        self.headers = HTTPHeaders()
        for name, value in headers.items():
            self.headers[name] = value
        self.body = body
        self.params: dict[str, Any] = {}
        self.context: dict[str, Any] = {"timestamp": timestamp}


_TIMESTAMP = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z")


def _epoch(timestamp: str) -> int:
    """Seconds since the epoch of an X-Amz-Date (YYYYMMDD'T'HHMMSS'Z'); ValueError if it is not one."""
    match = _TIMESTAMP.fullmatch(timestamp)
    if match is None:
        raise ValueError(timestamp)
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 61):
        raise ValueError(timestamp)
    return timegm((year, month, day, hour, minute, second, 0, 0, 0))


def _signer_class(signed: _Signed) -> Any:
    """botocore's signer for the form: S3 leaves the path as sent and presigns UNSIGNED-PAYLOAD."""
    if signed.service == _S3_SERVICE:
        return S3SigV4QueryAuth if signed.presigned_expires is not None else S3SigV4Auth
    return SigV4QueryAuth if signed.presigned_expires is not None else SigV4Auth
