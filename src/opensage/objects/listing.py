"""One page of ListObjects over a sorted key source: prefix, delimiter roll-up, start-after.

Keys are compared as Python strings, whose code-point order is the UTF-8 byte order S3 uses.
A common prefix that sorts at or before ``start_after`` is not returned again, so a caller
can continue after a page that ended on a common prefix by passing that prefix.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

_BATCH = 1000
_MAX_CODE_POINT = 0x10FFFF
_END = ("", False)


class Keyed(Protocol):
    @property
    def key(self) -> str: ...


Row = TypeVar("Row", bound=Keyed)

# fetch(lower, lower_inclusive, upper_exclusive, limit) -> rows in key order.
Fetch = Callable[[str, bool, str | None, int], list[Row]]


@dataclass
class Page(Generic[Row]):
    objects: list[Row]
    common_prefixes: list[str]
    is_truncated: bool
    last_returned: str | None


def prefix_successor(prefix: str) -> str | None:
    """The least string greater than every string starting with ``prefix`` (None: no such string)."""
    chars = list(prefix)
    while chars:
        code = ord(chars[-1]) + 1
        if code <= _MAX_CODE_POINT:
            # Surrogates never occur in keys and cannot be encoded to UTF-8 for SQLite.
            chars[-1] = chr(0xE000 if 0xD800 <= code <= 0xDFFF else code)
            return "".join(chars)
        chars.pop()
    return None


def list_page(
    fetch: Fetch[Row],
    prefix: str = "",
    delimiter: str | None = None,
    start_after: str | None = None,
    max_keys: int = 1000,
) -> Page[Row]:
    page: Page[Row] = Page([], [], False, None)
    if max_keys <= 0:
        return page
    lower, inclusive = prefix, True
    if start_after is not None and start_after >= prefix:
        lower, inclusive = start_after, False
    upper = prefix_successor(prefix) if prefix else None
    cursor: tuple[str, bool] | None = (lower, inclusive)
    while cursor is not None and cursor is not _END:
        rows = fetch(cursor[0], cursor[1], upper, _BATCH)
        if not rows:
            return page
        cursor = _consume(rows, page, prefix, delimiter, start_after, max_keys)
        if page.is_truncated:
            return page
        if cursor is None and len(rows) == _BATCH:
            cursor = (rows[-1].key, False)
    return page


def _consume(
    rows: list[Row],
    page: Page[Row],
    prefix: str,
    delimiter: str | None,
    start_after: str | None,
    max_keys: int,
) -> tuple[str, bool] | None:
    """Add rows to the page; return where to fetch next when a roll-up skips ahead."""
    for row in rows:
        common = _common_prefix(row.key, prefix, delimiter)
        if common is not None and start_after is not None and common <= start_after:
            return _after_prefix(common)
        if len(page.objects) + len(page.common_prefixes) >= max_keys:
            page.is_truncated = True
            return None
        if common is None:
            page.objects.append(row)
            page.last_returned = row.key
            continue
        page.common_prefixes.append(common)
        page.last_returned = common
        return _after_prefix(common)
    return None


def _after_prefix(common: str) -> tuple[str, bool]:
    successor = prefix_successor(common)
    # Only a prefix made of U+10FFFF has no successor; every later key then rolls up into it.
    return _END if successor is None else (successor, True)


def _common_prefix(key: str, prefix: str, delimiter: str | None) -> str | None:
    if not delimiter:
        return None
    cut = key.find(delimiter, len(prefix))
    return None if cut < 0 else key[: cut + len(delimiter)]
