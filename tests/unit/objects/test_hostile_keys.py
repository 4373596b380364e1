"""Keys with '..', leading '/', backslashes, NUL, control characters: stored safely inside the bucket folder.

The decision: S3 accepts any UTF-8 key of up to 1024 bytes, so the local store keeps every
such key (escaping what a file system cannot hold) and refuses only what S3 refuses.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from opensage.errors import InvalidArgument, KeyTooLong
from opensage.objects.local_objects import LocalObjectStore

from .conftest import BUCKET

_PARTS = st.sampled_from(["..", ".", "/", "\\", "\x00", "\x01", "\n", "%", "%2e", "a", "é", "x" * 250])
HOSTILE_KEYS = (
    st.lists(_PARTS, min_size=1, max_size=10).map("".join).filter(lambda key: len(key.encode()) <= 1024)
)


def _files(root: Path) -> set[Path]:
    return {Path(folder) / name for folder, _, names in os.walk(root) for name in names}


@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(key=HOSTILE_KEYS)
def test_every_hostile_key_is_a_file_inside_its_bucket_folder(
    store: LocalObjectStore, store_root: Path, key: str
) -> None:
    before = _files(store_root.parent)
    try:
        store.put_bytes(BUCKET, key, b"payload")
    except Exception as error:
        assert getattr(error, "code", None) == "ObjectPathConflict", repr(error)
        return
    assert store.get_bytes(BUCKET, key) == b"payload"
    created = _files(store_root.parent) - before
    bucket_dir = (store_root / BUCKET).resolve()
    assert created, "the object's bytes are a file"
    for path in created:
        inside_bucket = path.resolve().is_relative_to(bucket_dir)
        private = path.resolve().is_relative_to(store_root.resolve()) and path.relative_to(store_root).parts[
            0
        ].startswith(".")
        assert inside_bucket or private, path
    store.delete_object(BUCKET, key)


def test_keys_s3_refuses_are_refused_with_its_errors(store: LocalObjectStore) -> None:
    with pytest.raises(KeyTooLong, match="1025 bytes"):
        store.put_bytes(BUCKET, "k" * 1025, b"x")
    with pytest.raises(KeyTooLong):
        store.put_bytes(BUCKET, "é" * 513, b"x")  # 1026 bytes of UTF-8 in 513 characters
    with pytest.raises(InvalidArgument, match="UTF-8"):
        store.put_bytes(BUCKET, "bad\udc80surrogate", b"x")
    with pytest.raises(InvalidArgument, match="empty"):
        store.put_bytes(BUCKET, "", b"x")
