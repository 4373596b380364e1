"""Object stores, chosen by URL: ``open_object_store("file:///abs/path")`` opens the local store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from opensage.errors import ValidationError

if TYPE_CHECKING:
    from opensage.objects.base import ObjectStore
    from opensage.objects.encryption import KeyRing

SUPPORTED_SCHEMES = ("file",)

__all__ = ["SUPPORTED_SCHEMES", "open_object_store"]


def open_object_store(url: str, keyring: KeyRing | None = None) -> ObjectStore:
    """Open the object store ``url`` names; backends are imported only when chosen.

    ``keyring`` makes and opens the data keys of encrypted objects; without one, reading or
    writing an encrypted object fails.
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc not in ("", "localhost") or not parts.path.startswith("/"):
            raise ValidationError(
                f"Object store URL {url!r} must name an absolute local folder, as in file:///home/me/objects."
            )
        from opensage.objects.local_objects import LocalObjectStore

        return LocalObjectStore(Path(unquote(parts.path)), keyring)
    raise ValidationError(
        f"Object store URL scheme {parts.scheme or '(none)'!r} is not supported; "
        f"use one of: {', '.join(s + '://' for s in SUPPORTED_SCHEMES)}."
    )
