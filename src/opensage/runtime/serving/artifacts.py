"""Fetch model artifacts from the object store and unpack them safely into a local folder.

Archives and keys come from users, so they are unpacked and placed through
``runtime.archives`` (no absolute paths, ``..``, device files or links that leave the
folder). An unpacked model is kept under a
name derived from its URI and ETag, so instances and endpoints sharing a model share one
copy, and a changed object is fetched again.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from pathlib import Path

from opensage.errors import ArchiveError, NoSuchBucket, NoSuchKey, ValidationError
from opensage.naming import parse_s3_uri
from opensage.objects.base import ObjectStore
from opensage.runtime.archives import contained_path, extract_tar


class ArtifactError(ValidationError):
    """The model data cannot be fetched or unpacked; the message says which and why."""


def _folder_for(cache: Path, uri: str, etag: str) -> Path:
    digest = hashlib.sha256(f"{uri}\n{etag}".encode()).hexdigest()[:24]
    return cache / digest


def fetch_model(store: ObjectStore, uri: str, cache: Path, compressed: bool = True) -> Path:
    """The local folder holding the model at ``uri`` (a model.tar.gz, or a prefix when not compressed)."""
    location = parse_s3_uri(uri, "ModelDataUrl")
    try:
        if compressed:
            etag = store.head_object(location.bucket, location.key).etag
        else:
            etag = ",".join(info.etag for info in store.iter_objects(location.bucket, location.key))
    except (NoSuchBucket, NoSuchKey) as exc:
        raise ArtifactError(f"The model data {uri} does not exist") from exc
    folder = _folder_for(cache, uri, etag)
    if folder.is_dir():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".fetching-", dir=cache))
    try:
        if compressed:
            archive = staging / "model.tar.gz"
            store.download_file(location.bucket, location.key, archive)
            unpacked = staging / "model"
            unpacked.mkdir()
            try:
                extract_tar(archive, unpacked, f"The model data {uri}")
            except ArchiveError as exc:
                raise ArtifactError(exc.message) from exc
        else:
            unpacked = staging / "model"
            prefix = location.key
            for info in store.iter_objects(location.bucket, prefix):
                target = contained_path(unpacked, info.key[len(prefix) :].lstrip("/"))
                if target is not None and not info.key.endswith("/"):
                    store.download_file(location.bucket, info.key, target)
            unpacked.mkdir(exist_ok=True)
        try:
            os.replace(unpacked, folder)
        except OSError:
            # Another process unpacked the same model first; theirs is as good as ours.
            if not folder.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return folder
