"""Bucket-name rules and the reversible mapping of S3 keys to relative file paths.

A key is split at ``/`` and every segment becomes one path component, so ``data/train.csv``
is the file ``data/train.csv`` under the bucket's folder and users can browse their data.
Segments a file system cannot hold, or that would climb out of the bucket, are escaped with
``%XX`` (``%`` itself, ``\\``, NUL, ``.`` and ``..``); an empty segment (``a//b``, a leading
``/``, the folder marker ``a/``) becomes a lone ``%``. A segment longer than a file name may
be is cut into components that end in ``%+``. Because ``%`` is always escaped, decoding is
unambiguous and ``relpath_to_key(key_to_relpath(k)) == k`` for every key.
"""

from __future__ import annotations

import ipaddress
import re

from opensage.errors import InvalidArgument, InvalidBucketName, KeyTooLong

MAX_KEY_BYTES = 1024
# Linux and macOS allow 255 bytes per file name; stay below it with room for the "%+" marker.
_MAX_COMPONENT_BYTES = 240
_NAME_MAX = 255
_EMPTY_SEGMENT = "%"
_CONTINUATION = "%+"
_ESCAPES = {"%": "%25", "\\": "%5C", "\x00": "%00"}
_SPECIAL_SEGMENTS = {".": "%2E", "..": "%2E%2E"}
_NEEDS_ESCAPE = re.compile(r"[%\\\x00]")
_ESCAPE_TOKEN = re.compile(r"%[0-9A-F]{2}|[^%]", re.DOTALL)
_ENCODED_CHAR = re.compile(r"%([0-9A-F]{2})")

_BUCKET_PATTERN = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_RESERVED_PREFIXES = ("xn--", "sthree-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3")


def validate_bucket_name(name: str) -> None:
    """Raise InvalidBucketName unless ``name`` follows S3's general-purpose bucket rules."""
    problem = _bucket_name_problem(name)
    if problem:
        raise InvalidBucketName(
            f"The specified bucket is not valid: {problem}. Bucket names are 3-63 characters of "
            "lowercase letters, digits, '.' and '-', start and end with a letter or digit, "
            "and are not IP addresses."
        )


def is_valid_bucket_name(name: str) -> bool:
    return _bucket_name_problem(name) is None


def _bucket_name_problem(name: str) -> str | None:
    if not 3 <= len(name) <= 63:
        return f"it has {len(name)} characters"
    if not _BUCKET_PATTERN.fullmatch(name):
        return "it has characters other than a-z, 0-9, '.' and '-', or does not start and end with a-z or 0-9"
    if ".." in name:
        return "it has two adjacent periods"
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "it uses a prefix or suffix S3 reserves"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        return None
    return "it is formatted as an IP address"


def validate_key(key: str) -> None:
    """Raise unless ``key`` is a non-empty UTF-8 string of at most 1024 bytes, as S3 requires."""
    if not key:
        raise InvalidArgument("An object key must not be empty.")
    try:
        size = len(key.encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise InvalidArgument("An object key must be valid UTF-8 text.") from exc
    if size > MAX_KEY_BYTES:
        raise KeyTooLong(f"Your key is {size} bytes long; the maximum is {MAX_KEY_BYTES} bytes of UTF-8.")


def key_to_relpath(key: str) -> str:
    """The path of ``key`` relative to its bucket folder, with ``/`` separators."""
    components: list[str] = []
    for segment in key.split("/"):
        components.extend(_encode_segment(segment))
    return "/".join(components)


def relpath_to_key(relpath: str) -> str:
    """Invert ``key_to_relpath``; raise ValueError for a path it cannot have produced."""
    segments: list[str] = []
    pending = ""
    for component in relpath.split("/"):
        if component.endswith(_CONTINUATION) and len(component) > len(_CONTINUATION):
            pending += component[: -len(_CONTINUATION)]
            continue
        segments.append(_decode_segment(pending + component))
        pending = ""
    if pending:
        raise ValueError(f"path {relpath!r} ends inside a split segment")
    key = "/".join(segments)
    if key_to_relpath(key) != relpath:
        raise ValueError(f"path {relpath!r} is not in the store's canonical form")
    return key


def _encode_segment(segment: str) -> list[str]:
    if not segment:
        return [_EMPTY_SEGMENT]
    if segment in _SPECIAL_SEGMENTS:
        return [_SPECIAL_SEGMENTS[segment]]
    if _NEEDS_ESCAPE.search(segment):
        segment = _NEEDS_ESCAPE.sub(lambda match: _ESCAPES[match.group()], segment)
    if len(segment.encode("utf-8")) <= _NAME_MAX:
        return [segment]
    return _split_component(segment)


def _split_component(encoded: str) -> list[str]:
    # Cut between escape sequences and whole characters, never inside one.
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for token in _ESCAPE_TOKEN.findall(encoded):
        token_size = len(token.encode("utf-8"))
        if size + token_size > _MAX_COMPONENT_BYTES:
            chunks.append("".join(current) + _CONTINUATION)
            current, size = [], 0
        current.append(token)
        size += token_size
    chunks.append("".join(current))
    return chunks


def _decode_segment(component: str) -> str:
    if component == _EMPTY_SEGMENT:
        return ""
    if not component or "/" in component:
        raise ValueError(f"{component!r} is not an encoded key segment")
    if "%" not in component:
        return component
    if _ESCAPE_TOKEN.sub("", component):
        raise ValueError(f"{component!r} has a '%' that starts no escape sequence")
    return _ENCODED_CHAR.sub(lambda match: chr(int(match.group(1), 16)), component)
