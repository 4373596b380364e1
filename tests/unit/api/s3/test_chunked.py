"""The aws-chunked decoder: any framing of any payload decodes back; bad framing is InvalidRequest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opensage.api.s3.chunked import AwsChunkedDecoder
from opensage.errors import InvalidRequest


def encode(payload: bytes, sizes: list[int], signed: bool, trailers: dict[str, str]) -> bytes:
    extension = b";chunk-signature=" + b"a" * 64 if signed else b""
    out, start = bytearray(), 0
    for size in sizes:
        piece = payload[start : start + size]
        if not piece:
            break
        out += b"%x" % len(piece) + extension + b"\r\n" + piece + b"\r\n"
        start += len(piece)
    if start < len(payload):
        rest = payload[start:]
        out += b"%x" % len(rest) + extension + b"\r\n" + rest + b"\r\n"
    out += b"0" + extension + b"\r\n"
    for name, value in trailers.items():
        out += f"{name}:{value}\r\n".encode()
    return bytes(out + b"\r\n")


def decode(wire: bytes, cuts: list[int]) -> tuple[bytes, AwsChunkedDecoder]:
    decoder = AwsChunkedDecoder()
    out, start = bytearray(), 0
    for cut in [*sorted(cuts), len(wire)]:
        out += decoder.feed(wire[start:cut])
        start = max(start, cut)
    decoder.finish()
    return bytes(out), decoder


@given(
    st.binary(max_size=3000),
    st.lists(st.integers(1, 700), max_size=10),
    st.booleans(),
    st.dictionaries(
        st.sampled_from(["x-amz-checksum-crc32", "x-amz-trailer-signature"]),
        st.text("abcXYZ09+/=", min_size=1),
    ),
    st.lists(st.integers(0, 4000), max_size=20),
)
def test_any_framing_and_any_split_decode_to_the_payload(
    payload: bytes, sizes: list[int], signed: bool, trailers: dict[str, str], cuts: list[int]
) -> None:
    wire = encode(payload, sizes, signed, trailers)
    decoded, decoder = decode(wire, [c for c in cuts if c <= len(wire)])
    assert decoded == payload
    assert decoder.trailers == trailers
    assert decoder.decoded_size == len(payload)


@given(st.binary(max_size=300))
def test_arbitrary_bytes_decode_or_raise_invalid_request(wire: bytes) -> None:
    decoder = AwsChunkedDecoder()
    try:
        decoder.feed(wire)
        decoder.finish()
    except InvalidRequest:
        return
    assert decoder.done


@pytest.mark.parametrize(
    "wire",
    [
        b"zz\r\nabc\r\n0\r\n\r\n",  # size not hex
        b"3\r\nabcdef\r\n0\r\n\r\n",  # data longer than declared
        b"5\r\nabc",  # ends inside a chunk
        b"3\r\nabc\r\n",  # no final chunk
        b"0\r\nno-colon-here\r\n\r\n",  # bad trailer
        b"0\r\n\r\ntrailing garbage",
    ],
)
def test_malformed_bodies(wire: bytes) -> None:
    decoder = AwsChunkedDecoder()
    with pytest.raises(InvalidRequest, match="aws-chunked"):
        decoder.feed(wire)
        decoder.finish()
