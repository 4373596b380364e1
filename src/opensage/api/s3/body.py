"""Request bodies: streamed in bounded chunks, aws-chunked decoded, chunk signatures and checksums verified.

Nothing here touches the body until a handler iterates it, so a handler validates the
request first and uvicorn answers ``Expect: 100-continue`` only once the body is wanted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request

from opensage.api.s3.chunked import AwsChunkedDecoder
from opensage.api.s3.headers import checksum_header, is_aws_chunked, sent_checksums, supported_algorithm
from opensage.errors import (
    BadDigest,
    IncompleteBody,
    InvalidArgument,
    InvalidRequest,
    MaxMessageLengthExceeded,
    S3NotImplemented,
)
from opensage.objects.checksums import Digests, Hasher, decode_checksum, new_hasher, verify_digests
from opensage.security.chunk_signatures import ChunkSignatureChain, chunk_signing_of

CHUNK_SIZE = 1 << 20
# DeleteObjects lists up to 1000 keys of up to 1 KiB; other XML bodies are far smaller.
MAX_XML_BODY = 2 << 20


class RequestBody:
    """The payload of a request, decoded from aws-chunked when it was sent that way."""

    def __init__(self, request: Request) -> None:
        self._request = request
        headers = request.headers
        self._chunked = is_aws_chunked(headers)
        self._decoded_length = _decoded_length(headers.get("x-amz-decoded-content-length"))
        names = [name.strip().lower() for name in headers.get("x-amz-trailer", "").split(",") if name.strip()]
        self._trailer_hashers: dict[str, Hasher] = {}
        if self._chunked:
            for name in names:
                if not name.startswith("x-amz-checksum-"):
                    raise S3NotImplemented(f"The trailing header {name!r} is not supported.")
                algorithm = supported_algorithm(name[len("x-amz-checksum-") :].upper())
                self._trailer_hashers[algorithm] = new_hasher(algorithm)

    @property
    def trailer_algorithms(self) -> tuple[str, ...]:
        """Algorithms whose checksum arrives after the body (verified here, kept by the store)."""
        return tuple(self._trailer_hashers)

    async def chunks(self, size: int = CHUNK_SIZE) -> AsyncIterator[bytes]:
        """The payload in pieces of about ``size`` bytes; raises at the end on bad framing or trailers."""
        decoder = self._decoder() if self._chunked else None
        pending = bytearray()
        async for piece in self._request.stream():
            data = decoder.feed(piece) if decoder is not None else piece
            for hasher in self._trailer_hashers.values():
                hasher.update(data)
            pending += data
            if len(pending) >= size:
                yield bytes(pending)
                pending.clear()
        if decoder is not None:
            decoder.finish()
            self._check_decoded(decoder)
        if pending:
            yield bytes(pending)

    def _decoder(self) -> AwsChunkedDecoder:
        # Authentication leaves the chain's seed in the scope when the chunks are signed.
        signing = chunk_signing_of(self._request.scope)
        return AwsChunkedDecoder(ChunkSignatureChain(signing) if signing is not None else None)

    def _check_decoded(self, decoder: AwsChunkedDecoder) -> None:
        if self._decoded_length is not None and decoder.decoded_size != self._decoded_length:
            raise IncompleteBody(
                f"The decoded body has {decoder.decoded_size} bytes but x-amz-decoded-content-length "
                f"says {self._decoded_length}."
            )
        for algorithm, hasher in self._trailer_hashers.items():
            value = decoder.trailers.get(checksum_header(algorithm))
            if value is None:
                raise InvalidRequest(
                    f"The trailing {checksum_header(algorithm)} header announced was not sent."
                )
            if decode_checksum(algorithm, value) != hasher.digest():
                raise BadDigest(
                    f"The {algorithm} checksum you specified did not match the checksum of the body."
                )

    async def read_small(self, limit: int = MAX_XML_BODY) -> bytes:
        """The whole body, for XML requests; Content-MD5 and x-amz-checksum-* are verified."""
        parts: list[bytes] = []
        digests = Digests(sent_checksums(self._request.headers))
        received = 0
        async for chunk in self.chunks():
            received += len(chunk)
            if received > limit:
                raise MaxMessageLengthExceeded(
                    f"The request body is larger than the {limit} bytes this operation accepts."
                )
            digests.update(chunk)
            parts.append(chunk)
        headers = self._request.headers
        verify_digests(digests, headers.get("content-md5"), sent_checksums(headers))
        return b"".join(parts)


def _decoded_length(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.strip().isdigit():
        raise InvalidArgument("x-amz-decoded-content-length must be a non-negative integer.")
    return int(value)
