"""A fresh local object store with one bucket, per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from opensage.objects.local_objects import LocalObjectStore

BUCKET = "test-bucket"


@pytest.fixture()
def store_root(tmp_path: Path) -> Path:
    return tmp_path / "objects"


@pytest.fixture()
def store(store_root: Path) -> Iterator[LocalObjectStore]:
    opened = LocalObjectStore(store_root)
    opened.create_bucket(BUCKET, "us-east-1")
    yield opened
    opened.close()
