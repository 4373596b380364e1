"""Digests in S3's encodings, checked against known values."""

from __future__ import annotations

import hashlib

import pytest

from opensage.errors import BadDigest, InvalidArgument, InvalidDigest
from opensage.objects.checksums import Digests, multipart_etag, verify_digests

# Values S3 (and botocore) produce for b"hello world".
HELLO = b"hello world"
KNOWN = {
    "CRC32": "DUoRhQ==",
    "CRC32C": "yZRlqg==",
    "SHA1": "Kq5sNclPz7QV2+lfQIuc6R7oRu0=",
    "SHA256": "uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=",
}


def test_known_checksums_fed_in_pieces() -> None:
    digests = Digests(["crc32", "CRC32C", "SHA1", "SHA256"])
    for piece in (b"hello", b" ", b"world"):
        digests.update(piece)
    assert digests.checksums() == KNOWN
    assert digests.md5_hex() == hashlib.md5(HELLO).hexdigest()
    assert digests.size == len(HELLO)


def test_verification() -> None:
    digests = Digests(["CRC32"])
    digests.update(HELLO)
    verify_digests(digests, "XrY7u+Ae7tCTyyK7j1rNww==", {"CRC32": KNOWN["CRC32"]})
    with pytest.raises(BadDigest):
        verify_digests(digests, None, {"CRC32": "AAAAAA=="})
    with pytest.raises(BadDigest):
        verify_digests(digests, "1B2M2Y8AsgTpgAmY7PhCfg==", {})
    with pytest.raises(InvalidDigest):
        verify_digests(digests, "short", {})
    with pytest.raises(InvalidArgument):
        Digests(["CRC64NVME"])


def test_multipart_etag() -> None:
    parts = [hashlib.md5(b"a").digest(), hashlib.md5(b"b").digest()]
    assert multipart_etag(parts) == hashlib.md5(parts[0] + parts[1]).hexdigest() + "-2"
