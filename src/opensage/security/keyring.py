"""KMS keys at work: the ciphertext blob format and the keyring the object store wraps data keys with.

A KMS ciphertext blob is self-describing, so Decrypt needs no KeyId::

    b"OSK1" | len(key id) (1 byte) | key id (ASCII) | nonce (12 bytes) | AES-256-GCM ciphertext

The encryption context (canonical JSON, sorted keys) is the associated data, so a blob opens
only with the context it was made with. Keys are found by a resolver: the KMS service reads
them from the metadata store; a job process, which has no database, from the snapshot of
sealed keys in its job file (``KeyRingSpec``). Either way the key material itself stays
sealed under the home's master key until it is used.
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from opensage.errors import (
    KmsDisabledError,
    KmsInvalidCiphertextError,
    KmsInvalidStateError,
    KmsNotFoundError,
)
from opensage.objects.encryption import SSE_S3, DataKey, KeyRing, new_plaintext_key
from opensage.security.sealing import Sealer

_MAGIC = b"OSK1"
_NONCE_BYTES = 12
ENABLED = "Enabled"
DISABLED = "Disabled"
PENDING_DELETION = "PendingDeletion"
# The alias of the key S3 uses for aws:kms when no key is named, created on first use.
DEFAULT_S3_ALIAS = "alias/aws/s3"


@dataclass(frozen=True)
class KeyMaterial:
    key_id: str
    arn: str
    state: str
    material: bytes


KeyResolver = Callable[[str], KeyMaterial]


def canonical_context(context: Mapping[str, str] | None) -> bytes:
    return json.dumps(dict(context or {}), sort_keys=True, separators=(",", ":")).encode("utf-8")


def require_usable(key: KeyMaterial) -> KeyMaterial:
    if key.state == DISABLED:
        raise KmsDisabledError(f"{key.arn} is disabled.")
    if key.state != ENABLED:
        raise KmsInvalidStateError(f"{key.arn} is pending deletion.")
    return key


def encrypt_blob(key: KeyMaterial, plaintext: bytes, context: Mapping[str, str] | None) -> bytes:
    nonce = secrets.token_bytes(_NONCE_BYTES)
    body = AESGCM(key.material).encrypt(nonce, plaintext, canonical_context(context))
    key_id = key.key_id.encode("ascii")
    return _MAGIC + bytes([len(key_id)]) + key_id + nonce + body


def blob_key_id(blob: bytes) -> str:
    """The id of the key a blob was made with; InvalidCiphertextException if it is no blob of ours."""
    if len(blob) < len(_MAGIC) + 1 or not blob.startswith(_MAGIC):
        raise KmsInvalidCiphertextError("The ciphertext is not a KMS ciphertext blob made by opensage.")
    length = blob[len(_MAGIC)]
    start = len(_MAGIC) + 1
    if len(blob) < start + length + _NONCE_BYTES + 16:
        raise KmsInvalidCiphertextError("The ciphertext is truncated.")
    try:
        return blob[start : start + length].decode("ascii")
    except UnicodeDecodeError as exc:
        raise KmsInvalidCiphertextError("The ciphertext is not a KMS ciphertext blob.") from exc


def decrypt_blob(key: KeyMaterial, blob: bytes, context: Mapping[str, str] | None) -> bytes:
    start = len(_MAGIC) + 1 + len(blob_key_id(blob))
    nonce, body = blob[start : start + _NONCE_BYTES], blob[start + _NONCE_BYTES :]
    try:
        return AESGCM(key.material).decrypt(nonce, body, canonical_context(context))
    except InvalidTag as exc:
        # Wrong context and damaged ciphertext look the same, as in KMS.
        raise KmsInvalidCiphertextError(
            "The ciphertext does not decrypt under its key with the encryption context given."
        ) from exc


class MaterialKeyRing(KeyRing):
    """Data keys wrapped by KMS keys (aws:kms) or sealed by the platform's master key (AES256)."""

    def __init__(self, resolve: KeyResolver, sealer: Sealer) -> None:
        self._resolve = resolve
        self._sealer = sealer

    def new_data_key(self, algorithm: str, key_id: str | None, context: dict[str, str]) -> DataKey:
        plaintext = new_plaintext_key()
        if algorithm == SSE_S3:
            return DataKey(plaintext, self._sealer.seal(plaintext, _sse_s3_context(context)), "")
        key = require_usable(self._resolve(key_id or DEFAULT_S3_ALIAS))
        return DataKey(plaintext, encrypt_blob(key, plaintext, context), key.arn)

    def open_data_key(self, algorithm: str, key_arn: str, wrapped: bytes, context: dict[str, str]) -> bytes:
        if algorithm == SSE_S3:
            return self._sealer.open(wrapped, _sse_s3_context(context))
        key = require_usable(self._resolve(blob_key_id(wrapped)))
        return decrypt_blob(key, wrapped, context)


def _sse_s3_context(context: dict[str, str]) -> str:
    return "sse-s3:" + canonical_context(context).decode("utf-8")


def key_id_of(reference: str, alias_target: Callable[[str], str | None]) -> str:
    """The key id a KeyId parameter names: an id, a key ARN, ``alias/name`` or an alias ARN."""
    name = reference
    if reference.startswith("arn:"):
        _, _, resource = reference.partition(":key/")
        if resource:
            return resource
        _, _, alias = reference.partition(":alias/")
        name = "alias/" + alias
    if name.startswith("alias/"):
        found = alias_target(name)
        if found is None:
            raise KmsNotFoundError(f"Alias {name} is not found.")
        return found
    return name


# --- the keys a job process may use, written into its job file ---


@dataclass(frozen=True)
class SealedKey:
    key_id: str
    arn: str
    state: str
    # The key material sealed under the home's master key (context: the key ARN), base64.
    sealed_material: str


@dataclass(frozen=True)
class KeyRingSpec:
    secrets_dir: str
    keys: list[SealedKey] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)


def open_keyring(spec: KeyRingSpec | None) -> MaterialKeyRing | None:
    """The keyring of a job process, from the snapshot of keys the control plane gave it."""
    if spec is None:
        return None
    sealer = Sealer(Path(spec.secrets_dir))
    keys = {key.key_id: key for key in spec.keys}

    def resolve(reference: str) -> KeyMaterial:
        key_id = key_id_of(reference, spec.aliases.get)
        found = keys.get(key_id)
        if found is None:
            raise KmsNotFoundError(f"Key '{reference}' does not exist.")
        material = sealer.open(base64.b64decode(found.sealed_material), found.arn)
        return KeyMaterial(found.key_id, found.arn, found.state, material)

    return MaterialKeyRing(resolve, sealer)
