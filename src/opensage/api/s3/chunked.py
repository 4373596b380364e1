"""Decoder for S3's ``aws-chunked`` body encoding (SigV4 streaming uploads), fed bytes as they arrive.

On the wire::

    <hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n ... 0[;chunk-signature=<sig>]\\r\\n
    [<trailer name>:<value>\\r\\n ...]\\r\\n

Given a ``ChunkSignatureChain`` (a signed streaming upload), every chunk's signature is
checked as its last byte arrives, the final chunk's included, and so is the trailer's
``x-amz-trailer-signature``; a missing or wrong one raises ``SignatureMismatchError``. A
chunk's bytes are returned as they arrive, before its signature can be checked (nothing is
held back), so the caller must not commit them until the body has ended without error.
Without a chain, chunk signatures are ignored. Trailers such as ``x-amz-checksum-crc32``
are returned for the caller to verify.
"""

from __future__ import annotations

import enum
import hashlib

from opensage.errors import InvalidRequest
from opensage.security.chunk_signatures import TRAILER_SIGNATURE_HEADER, ChunkSignatureChain

_MAX_LINE = 8192
_CRLF = b"\r\n"


class _State(enum.Enum):
    SIZE = "size"
    DATA = "data"
    DATA_END = "data-end"
    TRAILER = "trailer"
    DONE = "done"


def _malformed(detail: str) -> InvalidRequest:
    return InvalidRequest(f"The aws-chunked request body is malformed: {detail}.")


class AwsChunkedDecoder:
    """Turns aws-chunked bytes into payload bytes; ``trailers`` holds the trailing headers."""

    def __init__(self, chain: ChunkSignatureChain | None = None) -> None:
        self._buffer = bytearray()
        self._state = _State.SIZE
        self._remaining = 0
        self._chain = chain
        # The chunk being read: the signature its header claims and the hash of its bytes so far.
        self._claimed: str | None = None
        self._chunk_hash = hashlib.sha256()
        self._signed_trailers: list[tuple[str, str]] = []
        self.trailers: dict[str, str] = {}
        self.decoded_size = 0

    @property
    def done(self) -> bool:
        return self._state is _State.DONE

    def feed(self, data: bytes) -> bytes:
        """Consume ``data``; return the payload bytes it completes (possibly empty)."""
        if self._state is _State.DONE:
            if data.strip():
                raise _malformed("bytes follow the final chunk")
            return b""
        self._buffer += data
        out = bytearray()
        while self._step(out):
            pass
        self.decoded_size += len(out)
        return bytes(out)

    def finish(self) -> None:
        """The body ended; raise unless it ended after the final chunk."""
        if self._state is _State.TRAILER and not self._buffer:
            # Tolerate a body that stops right after its last trailer line.
            self._end_trailer()
        if self._state is not _State.DONE:
            raise _malformed("it ended before the final zero-length chunk")
        if bytes(self._buffer).strip():
            raise _malformed("bytes follow the final chunk")

    def _step(self, out: bytearray) -> bool:
        if self._state is _State.SIZE:
            return self._read_size()
        if self._state is _State.DATA:
            return self._read_data(out)
        if self._state is _State.DATA_END:
            return self._read_data_end()
        if self._state is _State.TRAILER:
            return self._read_trailer()
        return False

    def _line(self) -> bytes | None:
        end = self._buffer.find(_CRLF)
        if end < 0:
            if len(self._buffer) > _MAX_LINE:
                raise _malformed("a chunk header or trailer line is too long")
            return None
        line = bytes(self._buffer[:end])
        del self._buffer[: end + 2]
        return line

    def _read_size(self) -> bool:
        line = self._line()
        if line is None:
            return False
        size_text, _, extensions = line.partition(b";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError as exc:
            raise _malformed("a chunk size is not hexadecimal") from exc
        if size < 0:
            raise _malformed("a chunk size is negative")
        self._remaining = size
        if self._chain is not None:
            self._claimed = _chunk_signature(extensions)
            self._chunk_hash = hashlib.sha256()
        if size:
            self._state = _State.DATA
        else:
            self._verify_chunk()
            self._state = _State.TRAILER
        return True

    def _read_data(self, out: bytearray) -> bool:
        if not self._buffer:
            return False
        take = min(self._remaining, len(self._buffer))
        with memoryview(self._buffer) as buffer, buffer[:take] as piece:
            out += piece
            if self._chain is not None:
                self._chunk_hash.update(piece)
        del self._buffer[:take]
        self._remaining -= take
        if self._remaining == 0:
            self._verify_chunk()
            self._state = _State.DATA_END
        return True

    def _verify_chunk(self) -> None:
        if self._chain is not None:
            self._chain.verify_chunk(self._claimed, self._chunk_hash.hexdigest())

    def _read_data_end(self) -> bool:
        if len(self._buffer) < 2:
            return False
        if self._buffer[:2] != _CRLF:
            raise _malformed("a chunk's data is longer than its declared size")
        del self._buffer[:2]
        self._state = _State.SIZE
        return True

    def _read_trailer(self) -> bool:
        line = self._line()
        if line is None:
            return False
        if not line:
            self._end_trailer()
            return False
        name, separator, value = line.decode("latin-1").partition(":")
        if not separator:
            raise _malformed("a trailer line has no ':'")
        name, value = name.strip().lower(), value.strip()
        if name != TRAILER_SIGNATURE_HEADER:
            self._signed_trailers.append((name, value))
        self.trailers[name] = value
        return True

    def _end_trailer(self) -> None:
        """The trailer is complete: in a signed upload, check that its signature covers it."""
        if self._chain is not None:
            self._chain.verify_trailer(self.trailers.get(TRAILER_SIGNATURE_HEADER), self._signed_trailers)
        self._state = _State.DONE


def _chunk_signature(extensions: bytes) -> str | None:
    """The ``chunk-signature`` among a chunk header's ``;name=value`` extensions."""
    for extension in extensions.split(b";"):
        name, _, value = extension.partition(b"=")
        if name.strip() == b"chunk-signature":
            return value.strip().decode("latin-1")
    return None
