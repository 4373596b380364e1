"""MD5 ETags and the S3 checksum algorithms, computed in one pass and verified at commit.

Checksums travel as base64 of the big-endian digest, as in ``x-amz-checksum-*`` headers;
Content-MD5 is base64 of the binary MD5, the ETag its hex form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib
from collections.abc import Iterable, Mapping
from typing import Protocol

from opensage.errors import BadDigest, InvalidArgument, InvalidDigest, InvalidRequest
from opensage.objects.base import CHECKSUM_ALGORITHMS


class Hasher(Protocol):
    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc32:
    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes, /) -> None:
        self._value = zlib.crc32(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


class _Crc32c:
    def __init__(self) -> None:
        self._value = 0

    def update(self, data: bytes, /) -> None:
        import google_crc32c

        self._value = google_crc32c.extend(self._value, data)

    def digest(self) -> bytes:
        return self._value.to_bytes(4, "big")


def new_hasher(algorithm: str) -> Hasher:
    """A fresh hasher for one of CHECKSUM_ALGORITHMS (upper-case name)."""
    if algorithm == "CRC32":
        return _Crc32()
    if algorithm == "CRC32C":
        return _Crc32c()
    if algorithm == "SHA1":
        return hashlib.sha1()
    if algorithm == "SHA256":
        return hashlib.sha256()
    raise InvalidArgument(
        f"Checksum algorithm {algorithm!r} is not supported; use one of {', '.join(CHECKSUM_ALGORITHMS)}."
    )


def normalize_algorithms(algorithms: Iterable[str]) -> tuple[str, ...]:
    """Upper-cased, de-duplicated, validated algorithm names in a stable order."""
    wanted = {name.upper() for name in algorithms}
    unknown = wanted.difference(CHECKSUM_ALGORITHMS)
    if unknown:
        raise InvalidArgument(
            f"Checksum algorithm {sorted(unknown)[0]!r} is not supported; "
            f"use one of {', '.join(CHECKSUM_ALGORITHMS)}."
        )
    return tuple(name for name in CHECKSUM_ALGORITHMS if name in wanted)


class Digests:
    """The MD5 and the requested checksums of a body, fed chunk by chunk."""

    def __init__(self, algorithms: Iterable[str] = ()) -> None:
        self._md5 = hashlib.md5()
        self._hashers = {name: new_hasher(name) for name in normalize_algorithms(algorithms)}
        self.size = 0

    def update(self, data: bytes) -> None:
        self._md5.update(data)
        for hasher in self._hashers.values():
            hasher.update(data)
        self.size += len(data)

    def md5_digest(self) -> bytes:
        return self._md5.digest()

    def md5_hex(self) -> str:
        return self._md5.hexdigest()

    def checksums(self) -> dict[str, str]:
        return {name: encode_b64(hasher.digest()) for name, hasher in self._hashers.items()}


def encode_b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode("ascii")


def decode_content_md5(value: str) -> bytes:
    """The 16 bytes of a Content-MD5 value; InvalidDigest if it is not base64 of an MD5."""
    try:
        digest = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidDigest("The Content-MD5 you specified is not valid base64.") from exc
    if len(digest) != 16:
        raise InvalidDigest("The Content-MD5 you specified is not a base64-encoded 128-bit MD5 digest.")
    return digest


def decode_checksum(algorithm: str, value: str) -> bytes:
    """The binary digest of an ``x-amz-checksum-*`` value; InvalidRequest if malformed."""
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest(f"Value for x-amz-checksum-{algorithm.lower()} is not valid base64.") from exc


def verify_digests(digests: Digests, content_md5: str | None, expected: Mapping[str, str]) -> None:
    """Raise BadDigest if the body does not match what the client said it sent."""
    if content_md5 is not None and decode_content_md5(content_md5) != digests.md5_digest():
        raise BadDigest("The Content-MD5 you specified did not match what we received.")
    computed = digests.checksums()
    for algorithm, value in expected.items():
        name = algorithm.upper()
        if name not in computed:
            raise InvalidArgument(f"Checksum {algorithm!r} was expected but not computed.")
        if decode_checksum(name, value) != base64.b64decode(computed[name]):
            raise BadDigest(
                f"The {name} checksum you specified did not match the calculated checksum of the body."
            )


def expected_algorithms(algorithms: Iterable[str], expected: Mapping[str, str]) -> tuple[str, ...]:
    """Every algorithm a writer must compute: those to keep plus those to verify."""
    return normalize_algorithms([*algorithms, *expected])


def multipart_etag(part_md5s: Iterable[bytes]) -> str:
    """S3's ETag of a completed upload: MD5 of the concatenated binary part MD5s, then -<parts>."""
    combined = hashlib.md5()
    count = 0
    for digest in part_md5s:
        combined.update(digest)
        count += 1
    return f"{combined.hexdigest()}-{count}"
