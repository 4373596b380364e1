"""ListObjects semantics (UTF-8 order, prefix, delimiter, start-after, truncation) against a simple model."""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from opensage.errors import NoSuchBucket
from opensage.objects.listing import list_page, prefix_successor
from opensage.objects.local_objects import LocalObjectStore

# Characters whose UTF-8 order differs from UTF-16 order, the delimiter and plain letters.
ALPHABET = st.sampled_from(["a", "b", "/", "-", "é", "\ue000", "\uffff", "😀", " "])
KEYS = st.sets(st.lists(ALPHABET, min_size=1, max_size=5).map("".join), max_size=25)
PREFIXES = st.sampled_from(["", "a", "a/", "b", "😀", "\uffff"])
DELIMITERS = st.sampled_from([None, "/", "-", "a/"])
START_AFTER = st.one_of(st.none(), st.lists(ALPHABET, max_size=4).map("".join))


@dataclass(frozen=True)
class Row:
    key: str


def model(
    keys: set[str], prefix: str, delimiter: str | None, start_after: str | None, max_keys: int
) -> tuple[list[str], list[str], bool]:
    """What S3 returns, computed the obvious way."""
    entries: list[tuple[str, str]] = []
    for key in sorted(keys, key=lambda k: k.encode("utf-8")):
        if not key.startswith(prefix) or (start_after is not None and key.encode() <= start_after.encode()):
            continue
        cut = key.find(delimiter, len(prefix)) if delimiter else -1
        if cut >= 0 and delimiter:
            common = key[: cut + len(delimiter)]
            already = any(value == common for _, value in entries)
            if already or (start_after is not None and common.encode() <= start_after.encode()):
                continue
            entries.append(("prefix", common))
        else:
            entries.append(("key", key))
    page = entries[:max_keys] if max_keys > 0 else []
    truncated = max_keys > 0 and len(entries) > max_keys
    return [v for kind, v in page if kind == "key"], [v for kind, v in page if kind == "prefix"], truncated


def list_fetch(keys: set[str]):  # type: ignore[no-untyped-def]
    ordered = sorted(keys)  # code-point order is UTF-8 byte order

    def fetch(lower: str, inclusive: bool, upper: str | None, limit: int) -> list[Row]:
        start = bisect.bisect_left(ordered, lower) if inclusive else bisect.bisect_right(ordered, lower)
        chosen = [k for k in ordered[start:] if upper is None or k < upper][:limit]
        return [Row(k) for k in chosen]

    return fetch


@given(KEYS, PREFIXES, DELIMITERS, START_AFTER, st.integers(0, 6))
def test_list_page_matches_the_model(
    keys: set[str], prefix: str, delimiter: str | None, start_after: str | None, max_keys: int
) -> None:
    page = list_page(list_fetch(keys), prefix, delimiter, start_after, max_keys)
    expected = model(keys, prefix, delimiter, start_after, max_keys)
    assert ([r.key for r in page.objects], page.common_prefixes, page.is_truncated) == expected


@given(KEYS, PREFIXES, DELIMITERS, st.integers(1, 4))
def test_paging_by_last_returned_visits_everything_once(
    keys: set[str], prefix: str, delimiter: str | None, max_keys: int
) -> None:
    seen: list[str] = []
    after: str | None = None
    for _ in range(len(keys) + 2):
        page = list_page(list_fetch(keys), prefix, delimiter, after, max_keys)
        seen += [r.key for r in page.objects] + page.common_prefixes
        if not page.is_truncated:
            break
        after = page.last_returned
    everything = model(keys, prefix, delimiter, None, len(keys) + 1)
    assert sorted(seen) == sorted(everything[0] + everything[1])
    assert len(seen) == len(set(seen))


def test_prefix_successor() -> None:
    assert prefix_successor("a/") == "a0"
    assert prefix_successor("a\U0010ffff") == "b"
    assert prefix_successor("\ud7ff") == "\ue000"
    assert prefix_successor("\U0010ffff") is None


def test_large_rollups_skip_ahead() -> None:
    keys = {f"dir{d}/file{i:04d}" for d in range(3) for i in range(2500)} | {"top"}
    page = list_page(list_fetch(keys), "", "/", None, 1000)
    assert (page.common_prefixes, [r.key for r in page.objects]) == (["dir0/", "dir1/", "dir2/"], ["top"])
    page = list_page(list_fetch(keys), "dir1/", "/", "dir1/file0999", 1000)
    assert (page.objects[0].key, page.objects[-1].key, page.is_truncated) == (
        "dir1/file1000",
        "dir1/file1999",
        True,
    )


def _conflict_free(keys: set[str]) -> bool:
    return not any(other.startswith(key + "/") for key in keys for other in keys)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(keys=KEYS, prefix=PREFIXES, delimiter=DELIMITERS, start_after=START_AFTER, max_keys=st.integers(1, 6))
def test_store_listing_matches_the_model(
    tmp_path_factory: pytest.TempPathFactory,
    keys: set[str],
    prefix: str,
    delimiter: str | None,
    start_after: str | None,
    max_keys: int,
) -> None:
    assume(_conflict_free(keys))
    store = LocalObjectStore(tmp_path_factory.mktemp("listing"))
    try:
        store.create_bucket("listing", "us-east-1")
        for key in keys:
            store.put_bytes("listing", key, key.encode())
        page = store.list_objects("listing", prefix, delimiter, start_after, max_keys)
        expected = model(keys, prefix, delimiter, start_after, max_keys)
        assert ([o.key for o in page.objects], page.common_prefixes, page.is_truncated) == expected
        assert all(o.size == len(o.key.encode()) for o in page.objects)
    finally:
        store.close()


def test_listing_a_missing_bucket(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    with pytest.raises(NoSuchBucket):
        store.list_objects("absent-bucket")
    store.close()
