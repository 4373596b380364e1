"""Sealing secrets at rest under the platform's master key.

Secrets opensage keeps (access keys' secrets, KMS keys' material) are stored sealed:
AES-256-GCM under a master key that lives in ``<home>/secrets/master.key`` with 0600
permissions, in a 0700 folder. A sealed blob carries a version byte and its nonce; the
*context* (what the secret belongs to, e.g. an access key id) is bound as associated data,
so a sealed value copied onto another record does not open there.

The master key is created on first use, written to a temporary file and renamed into place
so that a crash never leaves a half-written key; two processes racing to create it agree
on whichever rename wins.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from opensage.errors import SealingError

_VERSION = b"\x01"
_NONCE_BYTES = 12
_KEY_BYTES = 32
MASTER_KEY_FILE = "master.key"


class Sealer:
    """Seals and opens secrets with the master key of one opensage home."""

    def __init__(self, secrets_dir: Path) -> None:
        self._dir = secrets_dir
        self._aead: AESGCM | None = None

    @property
    def key_path(self) -> Path:
        return self._dir / MASTER_KEY_FILE

    def seal(self, plaintext: bytes, context: str) -> bytes:
        nonce = secrets.token_bytes(_NONCE_BYTES)
        return _VERSION + nonce + self._cipher().encrypt(nonce, plaintext, context.encode())

    def open(self, sealed: bytes, context: str) -> bytes:
        if len(sealed) < 1 + _NONCE_BYTES + 16 or sealed[:1] != _VERSION:
            raise SealingError("A sealed secret is damaged or was written by another version of opensage")
        nonce, body = sealed[1 : 1 + _NONCE_BYTES], sealed[1 + _NONCE_BYTES :]
        try:
            return self._cipher().decrypt(nonce, body, context.encode())
        except InvalidTag as exc:
            raise SealingError(
                f"A sealed secret for {context!r} does not open with this home's master key ({self.key_path})"
            ) from exc

    def _cipher(self) -> AESGCM:
        if self._aead is None:
            self._aead = AESGCM(load_or_create_master_key(self._dir))
        return self._aead


def load_or_create_master_key(secrets_dir: Path) -> bytes:
    """The master key of ``secrets_dir``, created (0600, in a 0700 folder) if there is none."""
    path = secrets_dir / MASTER_KEY_FILE
    if not path.exists():
        secrets_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = secrets_dir / f".{MASTER_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_bytes(_KEY_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            # link() fails if another process got there first: then its key is the key.
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            partial.unlink()
    key = path.read_bytes()
    if len(key) != _KEY_BYTES:
        raise SealingError(f"{path} is not a 32-byte master key; restore it from a backup")
    return key
