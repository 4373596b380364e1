"""Envelope encryption of object bodies: a fresh data key per object, the body in AES-GCM frames.

An encrypted object's file is a run of frames. Frame ``i`` holds plaintext bytes
``i*FRAME_SIZE ..`` (the last one may be shorter, and an empty object has one empty frame),
sealed with AES-256-GCM under the object's data key with nonce ``i`` and, as associated
data, the object's identity, ``i`` and whether it is the last frame. So a Range GET seeks
to the first frame it needs and decrypts only the frames it returns; a frame moved,
dropped or taken from another object fails to open. Nonces may count from zero because
no data key ever encrypts a second object.

The data key is wrapped by a ``KeyRing`` (KMS keys for ``aws:kms``, the platform's master
key for ``AES256``) and kept, wrapped, in the object's index row.
"""

from __future__ import annotations

import base64
import io
import secrets
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from opensage.errors import InternalError, InvalidArgument

FRAME_SIZE = 64 * 1024
TAG_SIZE = 16
DATA_KEY_BYTES = 32
SSE_KMS = "aws:kms"
SSE_S3 = "AES256"
ALGORITHMS = (SSE_KMS, SSE_S3)


@dataclass(frozen=True)
class DataKey:
    plaintext: bytes
    wrapped: bytes
    # The ARN of the KMS key that wrapped it; "" for the platform key (SSE-S3).
    key_arn: str


class KeyRing(ABC):
    """Makes and opens the data keys of encrypted objects."""

    @abstractmethod
    def new_data_key(self, algorithm: str, key_id: str | None, context: dict[str, str]) -> DataKey:
        """A fresh data key for ``algorithm``; ``key_id`` (id, ARN or alias) None is the default key."""

    @abstractmethod
    def open_data_key(self, algorithm: str, key_arn: str, wrapped: bytes, context: dict[str, str]) -> bytes:
        """The plaintext of a wrapped data key; a KmsError if its key may not be used now."""


def encryption_context(bucket: str, key: str) -> dict[str, str]:
    # S3 binds SSE-KMS data keys to the object's ARN in the same way.
    return {"aws:s3:arn": f"arn:aws:s3:::{bucket}/{key}"}


def check_algorithm(algorithm: str) -> str:
    if algorithm not in ALGORITHMS:
        raise InvalidArgument(
            f"The encryption method {algorithm!r} is not valid; use {SSE_KMS!r} or {SSE_S3!r}."
        )
    return algorithm


def new_plaintext_key() -> bytes:
    return secrets.token_bytes(DATA_KEY_BYTES)


def stored_size(size: int) -> int:
    """Bytes on disk of an encrypted object of ``size`` plaintext bytes."""
    frames = max(1, -(-size // FRAME_SIZE))
    return size + frames * TAG_SIZE


@dataclass(frozen=True)
class SealedBody:
    """What an object's index row keeps about its encryption (JSON-friendly, see ``to_row``)."""

    algorithm: str
    key_arn: str
    wrapped_key: bytes

    def to_row(self) -> dict[str, str]:
        return {
            "algorithm": self.algorithm,
            "key_arn": self.key_arn,
            "wrapped_key": base64.b64encode(self.wrapped_key).decode("ascii"),
        }

    @classmethod
    def from_row(cls, row: dict[str, str]) -> SealedBody:
        return cls(row["algorithm"], row["key_arn"], base64.b64decode(row["wrapped_key"]))


def _frame_aad(identity: bytes, index: int, last: bool) -> bytes:
    return identity + b"\x00" + index.to_bytes(8, "big") + (b"\x01" if last else b"\x00")


def _nonce(index: int) -> bytes:
    return index.to_bytes(12, "big")


class FrameEncryptor:
    """Plaintext in, frames out to ``sink``; only one frame of plaintext is ever held."""

    def __init__(self, data_key: bytes, identity: str, sink: Callable[[bytes], object]) -> None:
        self._aead = AESGCM(data_key)
        self._identity = identity.encode("utf-8")
        self._sink = sink
        self._pending = bytearray()
        self._index = 0

    def write(self, data: bytes) -> None:
        self._pending += data
        # Keep at least one byte back: the frame that ends the object is sealed as the last one.
        while len(self._pending) > FRAME_SIZE:
            self._emit(bytes(self._pending[:FRAME_SIZE]), last=False)
            del self._pending[:FRAME_SIZE]

    def finish(self) -> None:
        self._emit(bytes(self._pending), last=True)
        self._pending.clear()

    def _emit(self, chunk: bytes, last: bool) -> None:
        aad = _frame_aad(self._identity, self._index, last)
        self._sink(self._aead.encrypt(_nonce(self._index), chunk, aad))
        self._index += 1


def decrypting_stream(
    handle: BinaryIO, data_key: bytes, identity: str, size: int, start: int, last: int
) -> BinaryIO:
    """Plaintext bytes ``start..last`` of the encrypted object in ``handle``, a frame at a time."""
    return io.BufferedReader(_FrameReader(handle, data_key, identity, size, start, last), FRAME_SIZE)


class _FrameReader(io.RawIOBase):
    def __init__(
        self, handle: BinaryIO, data_key: bytes, identity: str, size: int, start: int, last: int
    ) -> None:
        self._handle = handle
        self._aead = AESGCM(data_key)
        self._identity = identity.encode("utf-8")
        self._frames = max(1, -(-size // FRAME_SIZE))
        self._index = start // FRAME_SIZE
        self._skip = start - self._index * FRAME_SIZE
        self._remaining = last - start + 1
        self._buffer = b""
        handle.seek(self._index * (FRAME_SIZE + TAG_SIZE))

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._remaining <= 0:
            return 0
        if not self._buffer:
            self._buffer = self._next_frame()[self._skip :]
            self._skip = 0
        view = memoryview(buffer)
        count = min(len(view), len(self._buffer), self._remaining)
        view[:count] = self._buffer[:count]
        self._buffer = self._buffer[count:]
        self._remaining -= count
        return count

    def _next_frame(self) -> bytes:
        index = self._index
        sealed = self._handle.read(FRAME_SIZE + TAG_SIZE)
        aad = _frame_aad(self._identity, index, index == self._frames - 1)
        try:
            plain = self._aead.decrypt(_nonce(index), sealed, aad)
        except InvalidTag as exc:
            raise InternalError(
                f"Frame {index} of an encrypted object does not decrypt: its file was changed or damaged "
                "outside opensage."
            ) from exc
        self._index += 1
        return plain

    def close(self) -> None:
        self._handle.close()
        super().close()
