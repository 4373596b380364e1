"""Signed aws-chunked uploads: every chunk's signature and the trailer's are checked as the body streams.

The golden cases are AWS's own worked examples ("Transferring Payload in Multiple Chunks"
and "Including Trailing Headers"): key AKIAIOSFODNN7EXAMPLE, 20130524T000000Z, us-east-1,
a 64 KiB + 1 KiB + 0 upload of 'a's. The other cases sign bodies with the chain written out
again here, independently of opensage's.
"""

from __future__ import annotations

import calendar
import hashlib
import hmac
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from opensage.api.s3.chunked import AwsChunkedDecoder
from opensage.errors import InvalidRequest, SignatureMismatchError
from opensage.security.chunk_signatures import ChunkSignatureChain, ChunkSigning
from opensage.security.keys import KnownKey
from opensage.security.principal import Principal
from opensage.security.sigv4 import SigV4Verifier, WireRequest

EXAMPLE_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
EXAMPLE_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
EXAMPLE_TIMESTAMP = "20130524T000000Z"
EXAMPLE_SCOPE = "20130524/us-east-1/s3/aws4_request"
EXAMPLE_CHUNKS = [b"a" * 65536, b"a" * 1024, b""]
# Example: PUT Object, STREAMING-AWS4-HMAC-SHA256-PAYLOAD.
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
CHUNK_SIGNATURES = [
    "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
    "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
    "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9",
]
# The same upload as STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER with a CRC32C trailer.
TRAILER_SEED = "106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e"
TRAILER_CHUNK_SIGNATURES = [
    "b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2",
    "1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7",
    "2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992",
]
TRAILER = "x-amz-checksum-crc32c:sOO8/Q=="
TRAILER_SIGNATURE = "d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435"


def signing_key(secret: str, scope: str) -> bytes:
    key = f"AWS4{secret}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


EXAMPLE_KEY = signing_key(EXAMPLE_SECRET, EXAMPLE_SCOPE)


def example_signing(seed: str = SEED, has_trailer: bool = False) -> ChunkSigning:
    return ChunkSigning(EXAMPLE_KEY, EXAMPLE_TIMESTAMP, EXAMPLE_SCOPE, seed, has_trailer)


def frame(chunks: list[tuple[bytes, str]], trailer_lines: list[str] | None = None) -> bytes:
    """aws-chunked framing of (data, signature) pairs; the last pair is the final empty chunk."""
    out = bytearray()
    for data, signature in chunks:
        out += f"{len(data):x};chunk-signature={signature}\r\n".encode() + data
        out += b"\r\n" if data else b""
    for line in trailer_lines or []:
        out += f"{line}\r\n".encode()
    return bytes(out + b"\r\n")


def example_body() -> bytes:
    return frame(list(zip(EXAMPLE_CHUNKS, CHUNK_SIGNATURES, strict=True)))


def trailer_example_body() -> bytes:
    chunks = list(zip(EXAMPLE_CHUNKS, TRAILER_CHUNK_SIGNATURES, strict=True))
    return frame(chunks, [TRAILER, f"x-amz-trailer-signature:{TRAILER_SIGNATURE}"])


def decode(signing: ChunkSigning | None, wire: bytes, cuts: list[int] | None = None) -> AwsChunkedDecoder:
    """Feed ``wire`` split at ``cuts`` (as receive() might deliver it); the decoder, finished."""
    decoder = AwsChunkedDecoder(ChunkSignatureChain(signing) if signing is not None else None)
    out, start = bytearray(), 0
    for cut in [*sorted(cuts or []), len(wire)]:
        out += decoder.feed(wire[start:cut])
        start = max(start, cut)
    decoder.finish()
    assert decoder.decoded_size == len(out)
    return decoder


class Signer:
    """The client's side of the chain, written from AWS's description (not opensage's code)."""

    def __init__(self, secret: str, scope: str, timestamp: str, seed: str) -> None:
        self.key = signing_key(secret, scope)
        self.scope, self.timestamp, self.previous = scope, timestamp, seed

    def _sign(self, *lines: str) -> str:
        string_to_sign = "\n".join([lines[0], self.timestamp, self.scope, self.previous, *lines[1:]])
        self.previous = hmac.new(self.key, string_to_sign.encode(), hashlib.sha256).hexdigest()
        return self.previous

    def chunk(self, data: bytes) -> str:
        empty = hashlib.sha256(b"").hexdigest()
        return self._sign("AWS4-HMAC-SHA256-PAYLOAD", empty, hashlib.sha256(data).hexdigest())

    def trailer(self, lines: list[str]) -> str:
        text = "".join(f"{line}\n" for line in lines)
        return self._sign("AWS4-HMAC-SHA256-TRAILER", hashlib.sha256(text.encode()).hexdigest())


def signed_body(pieces: list[bytes], seed: str = "f" * 64, trailer_lines: list[str] | None = None) -> bytes:
    signer = Signer(EXAMPLE_SECRET, EXAMPLE_SCOPE, EXAMPLE_TIMESTAMP, seed)
    chunks = [(piece, signer.chunk(piece)) for piece in [*pieces, b""]]
    if trailer_lines is None:
        return frame(chunks)
    return frame(chunks, [*trailer_lines, f"x-amz-trailer-signature:{signer.trailer(trailer_lines)}"])


# --- AWS's worked examples -----------------------------------------------------------------


def test_the_independent_signer_reproduces_aws_published_signatures() -> None:
    signer = Signer(EXAMPLE_SECRET, EXAMPLE_SCOPE, EXAMPLE_TIMESTAMP, SEED)
    assert [signer.chunk(data) for data in EXAMPLE_CHUNKS] == CHUNK_SIGNATURES
    signer = Signer(EXAMPLE_SECRET, EXAMPLE_SCOPE, EXAMPLE_TIMESTAMP, TRAILER_SEED)
    assert [signer.chunk(data) for data in EXAMPLE_CHUNKS] == TRAILER_CHUNK_SIGNATURES
    assert signer.trailer([TRAILER]) == TRAILER_SIGNATURE


def test_aws_example_request_verifies_end_to_end_seed_then_every_chunk() -> None:
    """The documented request: its seed signature through SigV4Verifier, then its body's chain."""
    headers = {
        "host": "s3.amazonaws.com",
        "x-amz-date": EXAMPLE_TIMESTAMP,
        "x-amz-storage-class": "REDUCED_REDUNDANCY",
        "authorization": (
            f"AWS4-HMAC-SHA256 Credential={EXAMPLE_KEY_ID}/{EXAMPLE_SCOPE},SignedHeaders=content-encoding;"
            "content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
            f"x-amz-storage-class,Signature={SEED}"
        ),
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "content-encoding": "aws-chunked",
        "x-amz-decoded-content-length": "66560",
        "content-length": "66824",
    }
    principal = Principal(EXAMPLE_KEY_ID, "example", "arn:aws:iam::000000000000:user/example")
    signed_at = calendar.timegm(time.strptime(EXAMPLE_TIMESTAMP, "%Y%m%dT%H%M%SZ"))
    verifier = SigV4Verifier(
        lambda key_id: KnownKey(EXAMPLE_SECRET, principal) if key_id == EXAMPLE_KEY_ID else None,
        clock=lambda: signed_at,
    )
    verified = verifier.verify(WireRequest("PUT", "/examplebucket/chunkObject.txt", "", headers), None)
    assert verified.chunk_signing == example_signing()
    assert len(example_body()) == 66824
    decoder = decode(verified.chunk_signing, example_body())
    assert decoder.decoded_size == 66560 and decoder.done


@pytest.mark.parametrize(
    "cuts", [[], [1, 2, 3, 90], [85, 86, 65621, 65622, 65623], list(range(0, 66824, 4099))]
)
def test_aws_example_body_verifies_however_receive_splits_it(cuts: list[int]) -> None:
    assert decode(example_signing(), example_body(), cuts).done


def test_aws_trailer_example_verifies_chunks_then_the_trailer() -> None:
    decoder = decode(example_signing(TRAILER_SEED, has_trailer=True), trailer_example_body(), [70, 66700])
    assert decoder.trailers["x-amz-checksum-crc32c"] == "sOO8/Q=="


# --- refusals ------------------------------------------------------------------------------


def swap(body: bytes, old: bytes, new: bytes) -> bytes:
    assert body.count(old) >= 1
    return body.replace(old, new, 1)


def chunk(data: bytes, signature: str) -> bytes:
    return f"{len(data):x};chunk-signature={signature}\r\n".encode() + data + b"\r\n"


FINAL = f"0;chunk-signature={CHUNK_SIGNATURES[2]}\r\n\r\n".encode()
A64, A1 = EXAMPLE_CHUNKS[0], EXAMPLE_CHUNKS[1]
SIG = [signature.encode() for signature in CHUNK_SIGNATURES]


@pytest.mark.parametrize(
    "wire",
    [
        pytest.param(swap(example_body(), b"a\r\n400;", b"b\r\n400;"), id="a data byte changed"),
        pytest.param(swap(example_body(), SIG[1], b"0" * 64), id="a chunk signature wrong"),
        pytest.param(swap(example_body(), SIG[2], SIG[1]), id="the final chunk's signature wrong"),
        pytest.param(
            swap(example_body(), b";chunk-signature=" + SIG[1], b""), id="a chunk signature missing"
        ),
        pytest.param(swap(example_body(), b";chunk-signature=" + SIG[2], b""), id="final signature missing"),
        pytest.param(swap(example_body(), SIG[0], SIG[0].upper()), id="signature in upper case"),
        pytest.param(
            chunk(A1, CHUNK_SIGNATURES[1]) + chunk(A64, CHUNK_SIGNATURES[0]) + FINAL, id="reordered"
        ),
        pytest.param(chunk(A64, CHUNK_SIGNATURES[0]) + FINAL, id="a chunk dropped"),
        pytest.param(
            chunk(A64, CHUNK_SIGNATURES[0])
            + chunk(A1, CHUNK_SIGNATURES[1])
            + chunk(b"a", CHUNK_SIGNATURES[2])
            + FINAL,
            id="a chunk appended",
        ),
        pytest.param(
            chunk(A64, CHUNK_SIGNATURES[0]) + f"0;chunk-signature={CHUNK_SIGNATURES[1]}\r\n\r\n".encode(),
            id="cut short at a chunk boundary",
        ),
        pytest.param(
            swap(example_body(), b"\r\n\r\n", b"\r\nx-amz-checksum-crc32:NSRBwg==\r\n\r\n"),
            id="a trailer on a body signed without one",
        ),
    ],
)
def test_tampered_bodies_are_refused(wire: bytes) -> None:
    with pytest.raises(SignatureMismatchError):
        decode(example_signing(), wire)


def test_a_tampered_chunk_is_refused_when_its_last_byte_arrives() -> None:
    """Incremental: the bad chunk fails as it completes, before the rest of the body is read."""
    wire = swap(example_body(), b"a\r\n400;", b"b\r\n400;")
    decoder = AwsChunkedDecoder(ChunkSignatureChain(example_signing()))
    first_chunk_end = len(f"10000;chunk-signature={CHUNK_SIGNATURES[0]}\r\n") + 65536
    decoder.feed(wire[: first_chunk_end - 1])
    with pytest.raises(SignatureMismatchError):
        decoder.feed(wire[first_chunk_end - 1 : first_chunk_end])


@pytest.mark.parametrize(
    "change",
    [
        pytest.param((TRAILER.encode(), b"x-amz-checksum-crc32c:AAAAAA=="), id="the checksum changed"),
        pytest.param((TRAILER.encode(), TRAILER.encode() + b"\r\nx-amz-meta-extra:1"), id="a trailer added"),
        pytest.param((TRAILER.encode() + b"\r\n", b""), id="the trailer dropped"),
        pytest.param((TRAILER_SIGNATURE.encode(), TRAILER_SEED.encode()), id="the trailer signature wrong"),
        pytest.param(
            (f"x-amz-trailer-signature:{TRAILER_SIGNATURE}\r\n".encode(), b""), id="signature missing"
        ),
    ],
)
def test_tampered_trailers_are_refused(change: tuple[bytes, bytes]) -> None:
    with pytest.raises(SignatureMismatchError):
        decode(example_signing(TRAILER_SEED, has_trailer=True), swap(trailer_example_body(), *change))


def test_a_body_signed_under_another_seed_is_refused() -> None:
    with pytest.raises(SignatureMismatchError):
        decode(example_signing(seed="0" * 64), example_body())


def test_framing_errors_stay_invalid_request_in_a_signed_body() -> None:
    with pytest.raises(InvalidRequest, match="aws-chunked"):
        decode(example_signing(), swap(example_body(), b"10000;", b"zz;"))


def test_without_a_chain_signatures_are_not_checked() -> None:
    """--no-auth, or a body not signed chunk by chunk: the framing alone is decoded."""
    assert decode(None, swap(example_body(), SIG[1], b"0" * 64)).decoded_size == 66560


# --- any payload, any framing, any split ---------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.binary(min_size=1, max_size=600), max_size=6),
    st.lists(st.integers(0, 4000), max_size=12),
    st.booleans(),
)
def test_any_signed_body_verifies_however_it_is_split(
    pieces: list[bytes], cuts: list[int], trailer: bool
) -> None:
    lines = ["x-amz-checksum-crc32:AAAAAA=="] if trailer else None
    wire = signed_body(pieces, trailer_lines=lines)
    decoder = decode(
        example_signing("f" * 64, has_trailer=trailer), wire, [c for c in cuts if c <= len(wire)]
    )
    assert decoder.decoded_size == sum(map(len, pieces))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(min_size=1, max_size=300), min_size=1, max_size=4), st.data())
def test_any_flipped_data_byte_is_refused(pieces: list[bytes], data: st.DataObject) -> None:
    signer = Signer(EXAMPLE_SECRET, EXAMPLE_SCOPE, EXAMPLE_TIMESTAMP, "f" * 64)
    chunks = [(piece, signer.chunk(piece)) for piece in [*pieces, b""]]
    index = data.draw(st.integers(0, len(pieces) - 1))
    tampered = bytearray(pieces[index])
    tampered[data.draw(st.integers(0, len(tampered) - 1))] ^= 0x01
    chunks[index] = (bytes(tampered), chunks[index][1])
    with pytest.raises(SignatureMismatchError):
        decode(example_signing("f" * 64), frame(chunks))
