"""Key-to-path mapping: every key round-trips and stays inside its bucket folder; bucket-name rules."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from opensage.errors import InvalidArgument, InvalidBucketName, KeyTooLong
from opensage.objects.keys import (
    is_valid_bucket_name,
    key_to_relpath,
    relpath_to_key,
    validate_bucket_name,
    validate_key,
)

# Any key S3 accepts: UTF-8 text (no lone surrogates) of 1..1024 bytes; bias towards the tricky characters.
_TRICKY = st.sampled_from(["/", ".", "..", "%", "+", " ", "\\", "\x00", "%2F", "é", "😀", "~", "\n"])
KEYS = (
    st.lists(st.one_of(_TRICKY, st.text(st.characters(exclude_categories=["Cs"]), max_size=8)), min_size=1)
    .map("".join)
    .filter(lambda key: 0 < len(key.encode("utf-8")) <= 1024)
)


@given(KEYS)
def test_every_key_round_trips(key: str) -> None:
    assert relpath_to_key(key_to_relpath(key)) == key


@given(KEYS)
def test_no_key_escapes_its_bucket_folder(key: str) -> None:
    relpath = key_to_relpath(key)
    components = relpath.split("/")
    assert not relpath.startswith("/")
    assert all(component not in ("", ".", "..") for component in components)
    assert all("\x00" not in component and "\\" not in component for component in components)
    assert all(len(component.encode("utf-8")) <= 255 for component in components)
    bucket_dir = Path("/store/bucket")
    assert Path(os.path.normpath(bucket_dir / relpath)).is_relative_to(bucket_dir)


@given(KEYS, KEYS)
def test_distinct_keys_get_distinct_paths(first: str, second: str) -> None:
    if first != second:
        assert key_to_relpath(first) != key_to_relpath(second)


@pytest.mark.parametrize(
    ("key", "relpath"),
    [
        ("data/train.csv", "data/train.csv"),
        ("folder/", "folder/%"),
        ("/leading", "%/leading"),
        ("a//b", "a/%/b"),
        ("../escape", "%2E%2E/escape"),
        ("./here", "%2E/here"),
        ("50%off", "50%25off"),
        ("back\\slash", "back%5Cslash"),
        ("a+b c", "a+b c"),
        ("...", "..."),
    ],
)
def test_readable_paths_for_common_keys(key: str, relpath: str) -> None:
    assert key_to_relpath(key) == relpath


def test_long_segment_is_split_and_rejoined() -> None:
    key = "x" * 1000
    relpath = key_to_relpath(key)
    assert relpath.count("/") >= 3
    assert relpath_to_key(relpath) == key


@pytest.mark.parametrize("relpath", ["50%off", "a/%2e", "x%+", "a%", "%2F"])
def test_paths_the_store_never_writes_are_not_keys(relpath: str) -> None:
    with pytest.raises(ValueError, match=r"path|segment|escape|'%'"):
        relpath_to_key(relpath)


def test_key_validation() -> None:
    validate_key("k" * 1024)
    with pytest.raises(KeyTooLong):
        validate_key("k" * 1025)
    with pytest.raises(KeyTooLong):
        validate_key("é" * 513)
    with pytest.raises(InvalidArgument):
        validate_key("")
    with pytest.raises(InvalidArgument):
        validate_key("bad\udc80surrogate")


@pytest.mark.parametrize("name", ["abc", "my-bucket.data", "a" * 63, "1bucket", "b-1"])
def test_valid_bucket_names(name: str) -> None:
    assert is_valid_bucket_name(name)
    validate_bucket_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "ab",
        "a" * 64,
        "My-Bucket",
        "-bucket",
        "bucket-",
        ".bucket",
        "bucket.",
        "a..b",
        "192.168.1.1",
        "under_score",
        "xn--bucket",
        "bucket-s3alias",
        ".opensage-tmp",
        "buck et",
    ],
)
def test_invalid_bucket_names(name: str) -> None:
    with pytest.raises(InvalidBucketName, match="not valid"):
        validate_bucket_name(name)
