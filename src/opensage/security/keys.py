"""Access keys: AKIA-style ids and 40-character secrets, stored with the secret sealed.

Keys are documents of kind ``access-key`` in the generic resource table; the secret is
sealed under the home's master key with the key id as context, so the database alone does
not give away any secret. The first start of a home creates user ``admin``'s key and writes
it to ``<home>/credentials`` (0600, the INI layout of ``~/.aws/credentials``, profile
``opensage``), where ``opensage env`` and the SDK find it.

Verification asks ``lookup`` on every request; unsealed secrets are cached for about a
second and then re-read, so a key revoked by ``opensage keys revoke`` in another process
stops working within that second.
"""

from __future__ import annotations

import base64
import enum
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from opensage.clock import utcnow
from opensage.errors import NotFoundError, ValidationError
from opensage.security.credentials import (
    CREDENTIALS_FILE,
    Credentials,
    write_credentials_file,
)
from opensage.security.principal import Principal
from opensage.security.sealing import Sealer
from opensage.services.documents import Documents, Stamp
from opensage.store import ListQuery, ResourceRepository

ACCESS_KEY_KIND = "access-key"
ADMIN_USER = "admin"
# How long a looked-up key is trusted before its status is read again (revocation delay).
_CACHE_SECONDS = 1.0
_ID_ALPHABET = string.ascii_uppercase + string.digits
_SECRET_ALPHABET = string.ascii_letters + string.digits + "+/"


class KeyStatus(enum.StrEnum):
    ACTIVE = "Active"
    INACTIVE = "Inactive"


@dataclass
class AccessKey:
    """The stored document of one key: never holds the secret in clear."""

    access_key_id: str
    user: str
    status: KeyStatus
    create_date: datetime
    sealed_secret: str


@dataclass(frozen=True)
class KnownKey:
    """A key as verification needs it: its secret and who signs with it."""

    secret_access_key: str
    principal: Principal


def _stamp(key: AccessKey) -> Stamp:
    return Stamp(
        name=key.access_key_id,
        arn=key.access_key_id,
        status=key.status.value,
        creation_time=key.create_date,
        last_modified_time=key.create_date,
    )


def new_access_key_id() -> str:
    return "AKIA" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(16))


def new_secret_access_key() -> str:
    return "".join(secrets.choice(_SECRET_ALPHABET) for _ in range(40))


def user_arn(account_id: str, user: str) -> str:
    return f"arn:aws:iam::{account_id}:user/{user}"


class AccessKeys:
    """The access keys of one home."""

    def __init__(
        self,
        repository: ResourceRepository,
        sealer: Sealer,
        account_id: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.documents: Documents[AccessKey] = Documents(repository, ACCESS_KEY_KIND, AccessKey, _stamp)
        self._sealer = sealer
        self._account_id = account_id
        self._clock = clock
        self._cache: dict[str, tuple[float, KnownKey]] = {}
        self._lock = threading.Lock()

    def create(
        self, user: str = ADMIN_USER, access_key_id: str | None = None, secret: str | None = None
    ) -> Credentials:
        """A new active key for ``user``; ``access_key_id``/``secret`` pin it (seeded admin keys)."""
        key_id = access_key_id or new_access_key_id()
        secret = secret or new_secret_access_key()
        _check_key(key_id, secret)
        if not user or len(user) > 64 or not all(c.isalnum() or c in "+=,.@_-" for c in user):
            raise ValidationError(f"{user!r} is not a valid user name (1-64 letters, digits and +=,.@_-)")
        sealed = base64.b64encode(self._sealer.seal(secret.encode(), key_id)).decode("ascii")
        self.documents.create(AccessKey(key_id, user, KeyStatus.ACTIVE, self._clock(), sealed))
        return Credentials(key_id, secret)

    def list(self) -> list[AccessKey]:
        found: list[AccessKey] = []
        token: str | None = None
        while True:
            page, token = self.documents.page(ListQuery(max_results=100, next_token=token))
            found.extend(page)
            if token is None:
                return found

    def revoke(self, access_key_id: str) -> AccessKey:
        """Make the key Inactive: every request signed with it is refused from now on."""
        if self.documents.get(access_key_id) is None:
            raise NotFoundError(f"The access key {access_key_id} does not exist")

        def deactivate(key: AccessKey) -> None:
            key.status = KeyStatus.INACTIVE

        revoked = self.documents.update(access_key_id, deactivate)
        with self._lock:
            self._cache.pop(access_key_id, None)
        return revoked

    def lookup(self, access_key_id: str) -> KnownKey | None:
        """The active key with this id, or None (unknown or revoked)."""
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(access_key_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        key = self.documents.get(access_key_id)
        if key is None or key.status is not KeyStatus.ACTIVE:
            with self._lock:
                self._cache.pop(access_key_id, None)
            return None
        known = cached[1] if cached is not None else self._unseal(key)
        with self._lock:
            self._cache[access_key_id] = (now + _CACHE_SECONDS, known)
        return known

    def admin_exists(self) -> bool:
        return any(key.user == ADMIN_USER for key in self.list())

    def ensure_admin(
        self, home: Path, access_key_id: str | None = None, secret: str | None = None
    ) -> Credentials | None:
        """On a home's first start: the admin key (pinned if given), written to ``<home>/credentials``."""
        if self.admin_exists():
            return None
        credentials = self.create(ADMIN_USER, access_key_id, secret)
        write_credentials_file(home / CREDENTIALS_FILE, credentials)
        return credentials

    def _unseal(self, key: AccessKey) -> KnownKey:
        secret = self._sealer.open(base64.b64decode(key.sealed_secret), key.access_key_id).decode()
        principal = Principal(key.access_key_id, key.user, user_arn(self._account_id, key.user))
        return KnownKey(secret, principal)


def _check_key(access_key_id: str, secret: str) -> None:
    if not 16 <= len(access_key_id) <= 128 or not access_key_id.isalnum():
        raise ValidationError("An access key id is 16 to 128 letters and digits (opensage makes 20: AKIA...)")
    if len(secret) < 16 or any(c.isspace() for c in secret):
        raise ValidationError("A secret access key is at least 16 characters without spaces")


def open_access_keys(repository: ResourceRepository, home: Path, account_id: str) -> AccessKeys:
    return AccessKeys(repository, Sealer(home / "secrets"), account_id)
