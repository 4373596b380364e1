"""Reversible, safe file names for log group and stream names.

CloudWatch names may hold ``/``, ``:``, ``[``, ``]``, ``$`` and any other character; a file
name may not, and ``.``/``..`` would step out of the store. Every character outside
``[a-z0-9_-]`` is percent-encoded (lower-case hex), upper-case letters included, so the result
is all lower case and two names that differ only by case stay distinct on case-insensitive
file systems (macOS, Windows). A file name never starts with ``.``, which leaves dot-names
free for the store's own temporary files.

An encoding longer than ``MAX_FILE_NAME`` becomes a truncated prefix, ``~`` and a digest of
the name; ``~`` is never produced otherwise, and the full name is kept in the metadata file.
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

_SAFE = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-")
# Well under the 255 bytes of common file systems, leaving room for suffixes and temp names.
MAX_FILE_NAME = 160
HASHED_MARKER = "~"
_DIGEST_CHARS = 40


def _utf8(text: str) -> bytes:
    # A lone surrogate (from a badly decoded pipe) still gets a distinct, reversible name.
    return text.encode("utf-8", "surrogatepass")


def _escape(char: str) -> str:
    return "".join(f"%{byte:02x}" for byte in _utf8(char))


def encode_name(name: str) -> str:
    """The file name for a group or stream name."""
    if not name:
        raise ValueError("A log group or stream name must not be empty")
    encoded = "".join(char if char in _SAFE else _escape(char) for char in name)
    if len(encoded) <= MAX_FILE_NAME:
        return encoded
    digest = hashlib.sha256(_utf8(name)).hexdigest()[:_DIGEST_CHARS]
    return encoded[: MAX_FILE_NAME - _DIGEST_CHARS - 1] + HASHED_MARKER + digest


def is_hashed(file_name: str) -> bool:
    """Whether the name had to be shortened, so that only the metadata file knows it in full."""
    return HASHED_MARKER in file_name


def decode_name(file_name: str) -> str | None:
    """The name a file name stands for; None if it is hashed or not one of ours."""
    if not file_name or is_hashed(file_name):
        return None
    try:
        name = unquote(file_name, encoding="utf-8", errors="surrogatepass")
        return name if encode_name(name) == file_name else None
    except (ValueError, UnicodeError):
        return None
