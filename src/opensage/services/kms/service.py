"""The KMS subset: keys, aliases, Encrypt/Decrypt and data keys, and the keyring objects are sealed with."""

from __future__ import annotations

import base64
import re
import secrets
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from opensage.errors import (
    AlreadyExistsError,
    KmsAlreadyExistsError,
    KmsError,
    KmsIncorrectKeyError,
    KmsNotFoundError,
    ValidationError,
)
from opensage.objects.encryption import KeyRing
from opensage.security.keyring import (
    DEFAULT_S3_ALIAS,
    DISABLED,
    ENABLED,
    PENDING_DELETION,
    KeyMaterial,
    KeyRingSpec,
    MaterialKeyRing,
    SealedKey,
    blob_key_id,
    decrypt_blob,
    encrypt_blob,
    key_id_of,
    require_usable,
)
from opensage.security.sealing import Sealer
from opensage.services.documents import Documents
from opensage.services.kms.models import ALIAS_KIND, KEY_KIND, KmsAlias, KmsKey, alias_stamp, key_stamp
from opensage.store import ListQuery, ResourceRepository

_ALIAS_NAME = re.compile(r"alias/[a-zA-Z0-9/_-]{1,250}")
_KEY_BYTES = 32
_DATA_KEY_SIZES = {"AES_256": 32, "AES_128": 16}
_PAGE = 100

T = TypeVar("T")


@dataclass(frozen=True)
class DataKeyResult:
    key_arn: str
    plaintext: bytes
    ciphertext: bytes


class KmsService:
    def __init__(
        self,
        repository: ResourceRepository,
        secrets_dir: Path,
        region: str,
        account_id: str,
        clock: Callable[[], datetime],
    ) -> None:
        self.keys = Documents(repository, KEY_KIND, KmsKey, key_stamp)
        self.aliases = Documents(repository, ALIAS_KIND, KmsAlias, alias_stamp)
        self._secrets_dir = secrets_dir
        self._sealer = Sealer(secrets_dir)
        self._region = region
        self._account_id = account_id
        self._clock = clock
        self._default_key_lock = threading.Lock()

    @property
    def account_id(self) -> str:
        return self._account_id

    # --- keys ---

    def create_key(self, description: str = "", key_manager: str = "CUSTOMER") -> KmsKey:
        key_id = str(uuid.uuid4())
        arn = f"arn:aws:kms:{self._region}:{self._account_id}:key/{key_id}"
        sealed = self._sealer.seal(secrets.token_bytes(_KEY_BYTES), arn)
        now = self._clock()
        key = KmsKey(
            key_id=key_id,
            arn=arn,
            description=description,
            key_state=ENABLED,
            creation_date=now,
            last_modified=now,
            sealed_material=base64.b64encode(sealed).decode("ascii"),
            key_manager=key_manager,
        )
        return self.keys.create(key)

    def describe_key(self, reference: str) -> KmsKey:
        """The key a KeyId parameter names; the account's aws/s3 key is made when first named."""
        if reference in (DEFAULT_S3_ALIAS, _alias_arn_suffix(reference)):
            self._default_s3_key()
        key_id = key_id_of(reference, self._alias_target)
        key = self.keys.get(key_id)
        if key is None:
            raise KmsNotFoundError(f"Key '{reference}' does not exist.")
        return key

    def list_keys(self, limit: int, marker: str | None) -> tuple[list[KmsKey], str | None]:
        return self.keys.page(ListQuery(max_results=limit, next_token=marker))

    def set_state(self, reference: str, enabled: bool) -> KmsKey:
        key = self.describe_key(reference)
        if key.key_state == PENDING_DELETION:
            require_usable(self._material(key))
        return self._update_state(key.key_id, ENABLED if enabled else DISABLED, None)

    def schedule_deletion(self, reference: str, pending_days: int) -> KmsKey:
        if not 7 <= pending_days <= 30:
            raise ValidationError("PendingWindowInDays must be between 7 and 30.")
        key = self.describe_key(reference)
        when = self._clock() + timedelta(days=pending_days)
        return self._update_state(key.key_id, PENDING_DELETION, when)

    def cancel_deletion(self, reference: str) -> KmsKey:
        key = self.describe_key(reference)
        if key.key_state != PENDING_DELETION:
            require_usable(self._material(key))
        return self._update_state(key.key_id, DISABLED, None)

    def _update_state(self, key_id: str, state: str, deletion_date: datetime | None) -> KmsKey:
        def change(key: KmsKey) -> None:
            key.key_state = state
            key.deletion_date = deletion_date
            key.last_modified = self._clock()

        return self.keys.update(key_id, change)

    # --- aliases ---

    def create_alias(self, alias_name: str, target: str) -> KmsAlias:
        if not _ALIAS_NAME.fullmatch(alias_name) or alias_name.startswith("alias/aws/"):
            raise ValidationError(
                f"Alias name {alias_name!r} must look like alias/<name> and must not start with alias/aws/."
            )
        key = self.describe_key(target)
        alias = KmsAlias(alias_name, self._alias_arn(alias_name), key.key_id, self._clock())
        try:
            return self.aliases.create(alias)
        except AlreadyExistsError as exc:
            raise KmsAlreadyExistsError(f"An alias with the name {alias_name} already exists.") from exc

    def delete_alias(self, alias_name: str) -> None:
        if not self.aliases.delete(alias_name):
            raise KmsNotFoundError(f"Alias {alias_name} is not found.")

    def list_aliases(self, key_reference: str | None) -> list[KmsAlias]:
        key_id = None if key_reference is None else self.describe_key(key_reference).key_id
        found = list(_all(self.aliases))
        return [alias for alias in found if key_id is None or alias.target_key_id == key_id]

    def _alias_target(self, alias_name: str) -> str | None:
        alias = self.aliases.get(alias_name)
        return None if alias is None else alias.target_key_id

    def _alias_arn(self, alias_name: str) -> str:
        return f"arn:aws:kms:{self._region}:{self._account_id}:{alias_name}"

    def _default_s3_key(self) -> None:
        if self.aliases.get(DEFAULT_S3_ALIAS) is not None:
            return
        with self._default_key_lock:
            if self.aliases.get(DEFAULT_S3_ALIAS) is not None:
                return
            key = self.create_key(
                "Default key that protects my S3 objects when no other key is defined", "AWS"
            )
            alias = KmsAlias(DEFAULT_S3_ALIAS, self._alias_arn(DEFAULT_S3_ALIAS), key.key_id, self._clock())
            self.aliases.create(alias)

    # --- cryptography ---

    def encrypt(self, reference: str, plaintext: bytes, context: dict[str, str] | None) -> tuple[str, bytes]:
        key = require_usable(self._material(self.describe_key(reference)))
        return key.arn, encrypt_blob(key, plaintext, context)

    def decrypt(
        self, blob: bytes, context: dict[str, str] | None, reference: str | None = None
    ) -> tuple[str, bytes]:
        key_id = blob_key_id(blob)
        if reference is not None and self.describe_key(reference).key_id != key_id:
            raise KmsIncorrectKeyError(f"The ciphertext was not made with key {reference}.")
        stored = self.keys.get(key_id)
        if stored is None:
            raise KmsNotFoundError("The key the ciphertext was made with does not exist.")
        key = require_usable(self._material(stored))
        return key.arn, decrypt_blob(key, blob, context)

    def generate_data_key(
        self, reference: str, spec: str | None, size: int | None, context: dict[str, str] | None
    ) -> DataKeyResult:
        if (spec is None) == (size is None):
            raise ValidationError("Specify exactly one of KeySpec and NumberOfBytes.")
        plaintext = secrets.token_bytes(_DATA_KEY_SIZES[spec] if spec is not None else size or 0)
        arn, blob = self.encrypt(reference, plaintext, context)
        return DataKeyResult(arn, plaintext, blob)

    def output_key_arn(self, reference: str, field: str) -> str:
        """The ARN of the enabled key a job's ``field`` names; ValidationException naming it otherwise."""
        try:
            key = self.describe_key(reference)
            require_usable(self._material(key))
        except KmsError as exc:
            raise ValidationError(f"{field} {reference!r} cannot be used: {exc.message}") from exc
        return key.arn

    # --- keyrings ---

    def keyring(self) -> KeyRing:
        """The keyring of the server's object store: keys read from the metadata store when used."""
        return MaterialKeyRing(lambda reference: self._material(self.describe_key(reference)), self._sealer)

    def keyring_spec(self) -> KeyRingSpec:
        """The keys a job process may use (still sealed), for its job file."""
        self._default_s3_key()
        keys = [SealedKey(key.key_id, key.arn, key.key_state, key.sealed_material) for key in _all(self.keys)]
        aliases = {alias.alias_name: alias.target_key_id for alias in _all(self.aliases)}
        return KeyRingSpec(str(self._secrets_dir), keys, aliases)

    def _material(self, key: KmsKey) -> KeyMaterial:
        material = self._sealer.open(base64.b64decode(key.sealed_material), key.arn)
        return KeyMaterial(key.key_id, key.arn, key.key_state, material)


def _alias_arn_suffix(reference: str) -> str:
    _, _, alias = reference.partition(":alias/")
    return "alias/" + alias if alias else ""


def _all(documents: Documents[T]) -> Iterator[T]:
    token: str | None = None
    while True:
        items, token = documents.page(ListQuery(max_results=_PAGE, next_token=token))
        yield from items
        if token is None:
            return


def output_key_arn(kms: KmsService | None, reference: str | None, field: str) -> str | None:
    """The key ARN a job's output ``field`` names (None when it names none, or KMS is not wired);
    ValidationException naming the field when the key cannot be used."""
    if reference is None or kms is None:
        return None
    return kms.output_key_arn(reference, field)
