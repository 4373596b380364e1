"""Moving data between this machine and the server's S3: URIs, uploads of files, folders and bytes, downloads."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from opensage.runtime.archives import contained_path

# What a channel's or a request's file suffix says about its content, as SageMaker names types.
_CONTENT_TYPES = {
    ".csv": "text/csv",
    ".libsvm": "text/libsvm",
    ".svm": "text/libsvm",
    ".parquet": "application/x-parquet",
    ".jsonl": "application/jsonlines",
    ".json": "application/json",
    ".recordio": "application/x-recordio-protobuf",
    ".pbr": "application/x-recordio-protobuf",
}
# Files a code or data folder holds that are nobody's input.
_SKIPPED_NAMES = {"__pycache__", ".git", ".ipynb_checkpoints", ".DS_Store"}


@dataclass(frozen=True)
class S3Location:
    bucket: str
    key: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def join(self, *parts: str) -> S3Location:
        key = "/".join(part.strip("/") for part in (self.key, *parts) if part.strip("/"))
        return S3Location(self.bucket, key)


def is_s3_uri(value: object) -> bool:
    return isinstance(value, str) and value.startswith("s3://")


def parse_uri(uri: str) -> S3Location:
    """``s3://bucket/key`` as a location; ValueError for anything else."""
    if not is_s3_uri(uri):
        raise ValueError(f"{uri!r} is not an S3 URI (s3://bucket/key)")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} names no bucket")
    return S3Location(bucket, key)


def content_type_of(name: str) -> str | None:
    """The content type a file name's suffix implies (``.csv`` → ``text/csv``), if any."""
    return _CONTENT_TYPES.get(PurePosixPath(name).suffix.lower())


def folder_files(folder: Path) -> list[Path]:
    """Every file under ``folder`` worth uploading, sorted, caches and VCS folders left out."""
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file() and not _SKIPPED_NAMES.intersection(path.relative_to(folder).parts)
    )


def folder_content_type(folder: Path) -> str | None:
    """The content type every file of a folder agrees on, or None."""
    types = {content_type_of(path.name) for path in folder_files(folder)}
    return types.pop() if len(types) == 1 else None


def upload_path(s3: Any, path: Path, target: S3Location) -> str:
    """Upload a file to ``target`` (its key) or a folder under it (a prefix); return the URI to use.

    A folder's URI ends with ``/`` so that, as an S3Prefix, it matches only what is inside.
    """
    if path.is_file():
        s3.upload_file(str(path), target.bucket, target.key)
        return target.uri
    if not path.is_dir():
        raise FileNotFoundError(f"No file or folder {str(path)!r} to upload")
    files = folder_files(path)
    if not files:
        raise ValueError(f"The folder {str(path)!r} holds no files to upload")
    for file in files:
        destination = target.join(file.relative_to(path).as_posix())
        s3.upload_file(str(file), destination.bucket, destination.key)
    return target.uri.rstrip("/") + "/"


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(str(item["Key"]) for item in page.get("Contents", []))
    return keys


def _object_exists(s3: Any, location: S3Location) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_object(Bucket=location.bucket, Key=location.key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def download(s3: Any, uri: str, path: Path) -> Path:
    """Download an object to a file, or every object under a prefix into a folder; return where it went.

    An object downloaded into an existing folder keeps its name there.
    """
    source = parse_uri(uri)
    exact = bool(source.key) and not source.key.endswith("/")
    if exact and _object_exists(s3, source):
        target = path / PurePosixPath(source.key).name if path.is_dir() else path
        target.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(source.bucket, source.key, str(target))
        return target
    prefix = source.key.rstrip("/") + "/" if source.key else ""
    keys = [key for key in list_keys(s3, source.bucket, prefix) if not key.endswith("/")]
    if not keys:
        raise FileNotFoundError(f"Nothing in S3 at {uri}")
    for key in keys:
        placed = contained_path(path, key[len(prefix) :])
        if placed is None:
            # "data//etc/x" or "data/../x" would land outside the folder asked for.
            raise ValueError(
                f"Cannot download s3://{source.bucket}/{key} into {path}: its key leaves the folder"
            )
        placed.parent.mkdir(parents=True, exist_ok=True)
        s3.download_file(source.bucket, key, str(placed))
    return path


def read_objects(s3: Any, uri: str) -> list[tuple[str, bytes]]:
    """Every object under the prefix ``uri`` as (key, body), in key order."""
    source = parse_uri(uri)
    prefix = source.key.rstrip("/") + "/" if source.key else ""
    found = []
    for key in sorted(list_keys(s3, source.bucket, prefix)):
        body = s3.get_object(Bucket=source.bucket, Key=key)["Body"].read()
        found.append((key, bytes(body)))
    return found
