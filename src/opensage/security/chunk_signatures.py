"""The signature chain of a signed aws-chunked S3 upload: each chunk, then the trailer, after the seed.

A body sent with ``x-amz-content-sha256: STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` (or its
``-TRAILER`` form) is signed piece by piece, as AWS documents under "Transferring Payload in
Multiple Chunks": the request's own signature is the seed, and every chunk's
``chunk-signature`` signs that chunk's bytes together with the signature before it, so
chunks can be neither changed, dropped, added nor reordered. The trailing headers, when the
form has them, are signed the same way in ``x-amz-trailer-signature``.

Verifying the seed (``security.sigv4``) leaves a ``ChunkSigning`` in the ASGI scope under
``CHUNK_SIGNING_SCOPE_KEY``; the S3 body decoder walks a ``ChunkSignatureChain`` over it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from opensage.errors import SignatureMismatchError

CHUNK_SIGNING_SCOPE_KEY = "opensage.chunk_signing"
SIGNED_STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
SIGNED_STREAMING_PAYLOAD_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
TRAILER_SIGNATURE_HEADER = "x-amz-trailer-signature"
_EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
_MISMATCH = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your key and signing method."
)


@dataclass(frozen=True)
class ChunkSigning:
    """What verifying a signed streaming request's seed signature leaves for its body."""

    signing_key: bytes = field(repr=False)
    timestamp: str
    #: ``<date>/<region>/<service>/aws4_request``
    credential_scope: str
    seed_signature: str
    #: The ``-TRAILER`` form: the trailing headers carry their own signature.
    has_trailer: bool


def chunk_signing_of(scope: Mapping[str, Any]) -> ChunkSigning | None:
    found = scope.get(CHUNK_SIGNING_SCOPE_KEY)
    return found if isinstance(found, ChunkSigning) else None


class ChunkSignatureChain:
    """Checks a body's chunk signatures in order; each check moves the chain on by one."""

    def __init__(self, signing: ChunkSigning) -> None:
        self._signing = signing
        self._previous = signing.seed_signature

    def verify_chunk(self, claimed: str | None, data_sha256: str) -> None:
        """Raise SignatureMismatchError unless ``claimed`` signs the chunk whose hex sha256 is given."""
        if claimed is None:
            raise SignatureMismatchError(f"{_MISMATCH} (a chunk of a signed upload has no chunk-signature)")
        self._check(claimed, "AWS4-HMAC-SHA256-PAYLOAD", _EMPTY_SHA256, data_sha256)

    def verify_trailer(self, claimed: str | None, trailers: Sequence[tuple[str, str]]) -> None:
        """Raise SignatureMismatchError unless ``claimed`` signs the trailing headers, in order sent.

        In the form without a trailer, any trailing header is one the signature does not cover.
        """
        if not self._signing.has_trailer:
            if trailers or claimed is not None:
                raise SignatureMismatchError(f"{_MISMATCH} (the upload was signed without trailing headers)")
            return
        if claimed is None:
            raise SignatureMismatchError(f"{_MISMATCH} (the trailer of a signed upload has no signature)")
        text = "".join(f"{name}:{value}\n" for name, value in trailers)
        self._check(claimed, "AWS4-HMAC-SHA256-TRAILER", hashlib.sha256(text.encode("latin-1")).hexdigest())

    def _check(self, claimed: str, algorithm: str, *hashes: str) -> None:
        signing = self._signing
        string_to_sign = "\n".join(
            (algorithm, signing.timestamp, signing.credential_scope, self._previous, *hashes)
        )
        expected = hmac.new(signing.signing_key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected.encode("ascii"), claimed.encode("latin-1", "replace")):
            raise SignatureMismatchError(_MISMATCH)
        self._previous = expected
