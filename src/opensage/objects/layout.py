"""Where the local object store keeps things under its root folder.

``<root>/<bucket>/<key path>`` holds object bytes; everything private lives in entries whose
names start with ``.``, which no bucket name can.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from opensage.errors import NoSuchBucket
from opensage.objects.keys import is_valid_bucket_name, key_to_relpath, relpath_to_key

INDEX_NAME = ".opensage-index.db"
_TEMP_DIR = ".opensage-tmp"
_UPLOADS_DIR = ".opensage-uploads"
# Upload ids are minted by the store; anything else from a client never becomes a path.
_UPLOAD_ID = re.compile(r"[A-Za-z0-9_-]{16,128}")


@dataclass(frozen=True)
class StoreLayout:
    root: Path

    @property
    def index_path(self) -> Path:
        return self.root / INDEX_NAME

    @property
    def temp_dir(self) -> Path:
        return self.root / _TEMP_DIR

    @property
    def uploads_dir(self) -> Path:
        return self.root / _UPLOADS_DIR

    def create(self) -> None:
        for directory in (self.root, self.temp_dir, self.uploads_dir):
            directory.mkdir(parents=True, exist_ok=True)

    def bucket_dir(self, bucket: str) -> Path:
        # A name S3 would refuse cannot have been created, and must never become a path.
        if not is_valid_bucket_name(bucket):
            raise NoSuchBucket(f"The specified bucket {bucket!r} does not exist.")
        return self.root / bucket

    def object_path(self, bucket: str, key: str) -> Path:
        return self.bucket_dir(bucket) / key_to_relpath(key)

    def key_of(self, bucket: str, path: Path) -> str:
        """The key stored at ``path`` (ValueError if no key maps there)."""
        return relpath_to_key(path.relative_to(self.bucket_dir(bucket)).as_posix())

    def upload_dir(self, upload_id: str) -> Path:
        if not is_upload_id(upload_id):
            raise ValueError(f"{upload_id!r} is not an upload id this store minted")
        return self.uploads_dir / upload_id

    def part_path(self, upload_id: str, part_number: int) -> Path:
        return self.upload_dir(upload_id) / f"{part_number:05d}"


def is_upload_id(value: str) -> bool:
    return _UPLOAD_ID.fullmatch(value) is not None
