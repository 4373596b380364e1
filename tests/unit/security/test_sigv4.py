"""The SigV4 verifier against requests signed by botocore itself, as boto3 signs them."""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlsplit

import pytest
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth, SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from opensage.errors import (
    InvalidRequest,
    MissingAuthenticationError,
    PresignedUrlExpiredError,
    SignatureExpiredError,
    SignatureMismatchError,
    UnknownAccessKeyError,
)
from opensage.security.keys import KnownKey
from opensage.security.principal import Principal
from opensage.security.sigv4 import SigV4Verifier, Verification, WireRequest

KEY_ID = "AKIAUNITTESTKEY00000"
SECRET = "unitTestSecretAccessKey00000000000000000"
PRINCIPAL = Principal(KEY_ID, "alice", "arn:aws:iam::000000000000:user/alice")
REVOKED: set[str] = set()


def lookup(key_id: str) -> KnownKey | None:
    if key_id != KEY_ID or key_id in REVOKED:
        return None
    return KnownKey(SECRET, PRINCIPAL)


def wire(request: AWSRequest) -> WireRequest:
    parts = urlsplit(request.url)
    headers = {name.lower(): str(value) for name, value in request.headers.items()}
    headers.setdefault("host", parts.netloc)
    return WireRequest(request.method, parts.path, parts.query, headers)


def signed_json(body: bytes = b'{"MaxResults": 5}', secret: str = SECRET, key_id: str = KEY_ID) -> AWSRequest:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:8080/",
        headers={"X-Amz-Target": "SageMaker.ListTrainingJobs", "Content-Type": "application/x-amz-json-1.1"},
        data=body,
    )
    SigV4Auth(Credentials(key_id, secret), "sagemaker", "us-east-1").add_auth(request)
    return request


def signed_s3(body: bytes, path: str = "/bucket/some%20key") -> AWSRequest:
    request = AWSRequest(method="PUT", url=f"http://127.0.0.1:8080{path}?x-id=PutObject", data=body)
    S3SigV4Auth(Credentials(KEY_ID, SECRET), "s3", "us-east-1").add_auth(request)
    return request


def verify(request: AWSRequest, body: bytes | None = None, clock: float | None = None) -> Verification:
    verifier = SigV4Verifier(lookup, clock=(lambda: clock) if clock is not None else time.time)
    return verifier.verify(wire(request), body)


def test_a_good_json_request_is_the_keys_principal() -> None:
    request = signed_json()
    verified = verify(request, request.body)
    assert verified.principal == PRINCIPAL
    assert (verified.service, verified.region) == ("sagemaker", "us-east-1")


def test_a_wrong_secret_does_not_verify() -> None:
    request = signed_json(secret="not-the-secret-at-all-0000000000000000000")
    with pytest.raises(SignatureMismatchError):
        verify(request, request.body)


def test_an_unknown_or_revoked_key_is_unrecognized() -> None:
    request = signed_json(key_id="AKIANOSUCHKEY0000000")
    with pytest.raises(UnknownAccessKeyError, match="security token included in the request is invalid"):
        verify(request, request.body)
    REVOKED.add(KEY_ID)
    try:
        with pytest.raises(UnknownAccessKeyError):
            verify(signed_json(), signed_json().body)
    finally:
        REVOKED.clear()


def test_a_signature_with_non_ascii_characters_is_a_mismatch_not_a_crash() -> None:
    request = signed_json()
    header = request.headers["Authorization"]
    request.headers.replace_header("Authorization", header[: header.index("Signature=") + 10] + "é" * 64)
    with pytest.raises(SignatureMismatchError):
        verify(request, request.body)


def test_a_tampered_body_header_or_query_does_not_verify() -> None:
    request = signed_json()
    with pytest.raises(SignatureMismatchError):
        verify(request, b'{"MaxResults": 6}')
    request.headers.replace_header("X-Amz-Target", "SageMaker.DeleteModel")
    with pytest.raises(SignatureMismatchError):
        verify(request, signed_json().body)
    s3 = signed_s3(b"data")
    s3.url = s3.url.replace("x-id=PutObject", "x-id=DeleteObject")
    with pytest.raises(SignatureMismatchError):
        verify(s3)


def test_unsigned_requests_are_missing_authentication() -> None:
    with pytest.raises(MissingAuthenticationError):
        verify(AWSRequest(method="GET", url="http://127.0.0.1:8080/bucket"))


def test_clock_skew_beyond_fifteen_minutes_is_expired() -> None:
    request = signed_json()
    with pytest.raises(SignatureExpiredError, match="Signature expired"):
        verify(request, request.body, clock=time.time() + 16 * 60)
    with pytest.raises(SignatureExpiredError, match="not yet current"):
        verify(request, request.body, clock=time.time() - 16 * 60)
    assert verify(request, request.body, clock=time.time() + 14 * 60).principal == PRINCIPAL


def test_s3_hex_payload_is_returned_to_be_checked_as_the_body_streams() -> None:
    body = b"x" * 1000
    verified = verify(signed_s3(body))
    assert verified.payload_sha256 == hashlib.sha256(body).hexdigest()


def test_s3_unsigned_and_streaming_payloads_verify_without_a_body_hash() -> None:
    for payload in (
        "UNSIGNED-PAYLOAD",
        "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
    ):
        request = AWSRequest(method="PUT", url="http://127.0.0.1:8080/bucket/key", data=b"body")
        request.headers["X-Amz-Content-SHA256"] = payload
        request.context["timestamp"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        signer = S3SigV4Auth(Credentials(KEY_ID, SECRET), "s3", "us-east-1")
        # Sign with the payload value as the client declared it (botocore keeps a present header).
        request.headers["X-Amz-Date"] = request.context["timestamp"]
        request.headers["host"] = "127.0.0.1:8080"
        canonical = signer.canonical_request(request)
        signature = signer.signature(signer.string_to_sign(request, canonical), request)
        headers = signer.signed_headers(signer.headers_to_sign(request))
        request.headers["Authorization"] = (
            f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, SignedHeaders={headers}, Signature={signature}"
        )
        verified = verify(request)
        assert verified.payload_sha256 is None and verified.principal == PRINCIPAL


def test_s3_without_x_amz_content_sha256_is_refused() -> None:
    request = AWSRequest(method="GET", url="http://127.0.0.1:8080/bucket")
    SigV4Auth(Credentials(KEY_ID, SECRET), "s3", "us-east-1").add_auth(request)
    with pytest.raises(InvalidRequest, match="x-amz-content-sha256"):
        verify(request)


def test_presigned_urls_verify_until_they_expire() -> None:
    request = AWSRequest(method="GET", url="http://127.0.0.1:8080/bucket/key")
    S3SigV4QueryAuth(Credentials(KEY_ID, SECRET), "s3", "us-east-1", expires=60).add_auth(request)
    assert verify(request).principal == PRINCIPAL
    with pytest.raises(PresignedUrlExpiredError, match="Request has expired"):
        verify(request, clock=time.time() + 61)
    tampered = AWSRequest(method="GET", url=request.url.replace("/bucket/key", "/bucket/other"))
    with pytest.raises(SignatureMismatchError):
        verify(tampered)
