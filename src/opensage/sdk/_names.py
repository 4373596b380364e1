"""Names for what the SDK creates: unique, and valid wherever SageMaker takes a resource name."""

from __future__ import annotations

import re
import secrets
import time

# SageMaker's resource names: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}
MAX_LENGTH = 63
_NOT_ALLOWED = re.compile(r"[^a-zA-Z0-9-]+")
# What unique_name appends; a name made from another made name drops the old one.
_STAMP = re.compile(r"-\d{8}-\d{6}-[0-9a-f]{4}$")


def base_of(name: str) -> str:
    """A made name without what ``unique_name`` appended."""
    return _STAMP.sub("", name)


def unique_name(base: str) -> str:
    """``<base>-<UTC time>-<4 hex digits>``, the base cleaned and cut so the whole fits 63 characters.

    The random suffix keeps two runs started in the same second apart. A base that ends
    with such a suffix already (a model named after a job) loses it first.
    """
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime()) + "-" + secrets.token_hex(2)
    clean = _NOT_ALLOWED.sub("-", base_of(base)).strip("-") or "opensage"
    room = MAX_LENGTH - len(stamp) - 1
    return f"{clean[:room].rstrip('-')}-{stamp}"
