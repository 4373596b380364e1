"""The object store interface: buckets of immutable objects, written atomically.

Backends (local files today, any S3-compatible store later) implement ``ObjectStore``; the S3
wire adapter, the job runner and the services use nothing else. Errors are the S3 errors of
``opensage.errors`` (NoSuchBucket, NoSuchKey, BadDigest, ...).
"""

from __future__ import annotations

import shutil
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

# Checksum algorithms S3 defines; values travel base64-encoded, as in x-amz-checksum-* headers.
CHECKSUM_ALGORITHMS = ("CRC32", "CRC32C", "SHA1", "SHA256")


@dataclass(frozen=True)
class BucketInfo:
    name: str
    creation_date: datetime
    region: str


@dataclass(frozen=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    # Without quotes: the hex MD5 of the body, or "<md5-of-part-md5s>-<parts>" after multipart.
    etag: str
    last_modified: datetime
    content_type: str = "binary/octet-stream"
    # x-amz-meta-* user metadata (names lower-cased) and the standard headers kept with the object.
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # Algorithm -> base64 value, for the algorithms the writer was asked to keep.
    checksums: dict[str, str] = field(default_factory=dict)
    # Server-side encryption at rest: "aws:kms" or "AES256", and the KMS key's ARN for aws:kms.
    sse: str | None = None
    sse_kms_key_id: str | None = None


@dataclass(frozen=True)
class BucketEncryption:
    """A bucket's default encryption, applied to writes that ask for none."""

    algorithm: str
    kms_key_id: str | None = None


@dataclass(frozen=True)
class ListPage:
    objects: list[ObjectInfo]
    common_prefixes: list[str]
    is_truncated: bool
    # The last key or common prefix returned; a caller continues after it.
    last_returned: str | None


@dataclass(frozen=True)
class PartInfo:
    part_number: int
    etag: str
    size: int
    last_modified: datetime
    checksums: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class UploadInfo:
    bucket: str
    key: str
    upload_id: str
    initiated: datetime


@dataclass(frozen=True)
class WriteOptions:
    """What a PUT asks the store to keep and to verify."""

    content_type: str = "binary/octet-stream"
    metadata: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # base64 MD5 from Content-MD5, checked at commit (BadDigest on mismatch).
    content_md5: str | None = None
    # Algorithm -> expected base64 value, checked at commit (BadDigest on mismatch).
    expected_checksums: dict[str, str] = field(default_factory=dict)
    # Algorithms to compute and keep even when no value was sent (x-amz-sdk-checksum-algorithm).
    checksum_algorithms: tuple[str, ...] = ()
    # Encrypt at rest with "aws:kms" (under ``sse_kms_key_id``, or the default key) or "AES256";
    # None applies the bucket's default encryption, if it has one.
    sse: str | None = None
    sse_kms_key_id: str | None = None


class ObjectWriter(ABC):
    """A body being written. Nothing is visible until ``commit``; ``abort`` leaves no trace."""

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def commit(self) -> ObjectInfo:
        """Verify digests, make the object durable (fsync) and visible in one atomic step."""

    @abstractmethod
    def abort(self) -> None: ...

    def __enter__(self) -> ObjectWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is not None:
            self.abort()


class PartWriter(ABC):
    """One part of a multipart upload being written; same rules as ObjectWriter."""

    @abstractmethod
    def write(self, data: bytes) -> None: ...

    @abstractmethod
    def commit(self) -> PartInfo: ...

    @abstractmethod
    def abort(self) -> None: ...


class ObjectStore(ABC):
    """Buckets and objects. Thread-safe; several processes may use one store at once."""

    # --- buckets ---

    @abstractmethod
    def create_bucket(self, name: str, region: str) -> BucketInfo:
        """Raise BucketAlreadyOwnedByYou if it exists, InvalidBucketName if the name is not S3's."""

    @abstractmethod
    def head_bucket(self, name: str) -> BucketInfo: ...

    @abstractmethod
    def list_buckets(self) -> list[BucketInfo]: ...

    @abstractmethod
    def delete_bucket(self, name: str) -> None:
        """Raise BucketNotEmpty unless the bucket holds no objects and no uploads."""

    @abstractmethod
    def put_bucket_encryption(self, name: str, encryption: BucketEncryption | None) -> None:
        """Set (None: remove) the encryption applied to writes into ``name`` that ask for none."""

    @abstractmethod
    def get_bucket_encryption(self, name: str) -> BucketEncryption | None: ...

    # --- objects ---

    @abstractmethod
    def open_writer(self, bucket: str, key: str, options: WriteOptions | None = None) -> ObjectWriter: ...

    @abstractmethod
    def head_object(self, bucket: str, key: str) -> ObjectInfo: ...

    @abstractmethod
    def open_reader(
        self, bucket: str, key: str, start: int = 0, end: int | None = None
    ) -> tuple[ObjectInfo, BinaryIO]:
        """The object and a stream of bytes ``start..end`` (inclusive; None is the last byte)."""

    @abstractmethod
    def delete_object(self, bucket: str, key: str) -> None:
        """Deleting a missing key succeeds, as in S3; a missing bucket is NoSuchBucket."""

    @abstractmethod
    def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        options: WriteOptions | None = None,
    ) -> ObjectInfo:
        """Copy a whole object; ``options`` None keeps the source's metadata (MetadataDirective COPY)."""

    @abstractmethod
    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
        max_keys: int = 1000,
    ) -> ListPage:
        """Keys in UTF-8 binary order after ``start_after``, rolled up at ``delimiter``."""

    # --- multipart ---

    @abstractmethod
    def create_multipart_upload(self, bucket: str, key: str, options: WriteOptions | None = None) -> str: ...

    @abstractmethod
    def open_part_writer(
        self, bucket: str, key: str, upload_id: str, part_number: int, options: WriteOptions | None = None
    ) -> PartWriter: ...

    @abstractmethod
    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        """``parts`` are (part number, ETag) in ascending order, as CompleteMultipartUpload sends them."""

    @abstractmethod
    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None: ...

    @abstractmethod
    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]: ...

    @abstractmethod
    def list_multipart_uploads(self, bucket: str) -> list[UploadInfo]: ...

    # --- conveniences built on the primitives, shared by every backend ---

    def iter_objects(self, bucket: str, prefix: str = "") -> Iterator[ObjectInfo]:
        """Every object under ``prefix``, in key order, across pages."""
        after: str | None = None
        while True:
            page = self.list_objects(bucket, prefix=prefix, start_after=after)
            yield from page.objects
            if not page.is_truncated or page.last_returned is None:
                return
            after = page.last_returned

    def put_bytes(
        self, bucket: str, key: str, data: bytes, options: WriteOptions | None = None
    ) -> ObjectInfo:
        with self.open_writer(bucket, key, options) as writer:
            writer.write(data)
            return writer.commit()

    def put_file(
        self,
        bucket: str,
        key: str,
        path: Path,
        options: WriteOptions | None = None,
        chunk_size: int = 1 << 20,
    ) -> ObjectInfo:
        with self.open_writer(bucket, key, options) as writer, path.open("rb") as source:
            while chunk := source.read(chunk_size):
                writer.write(chunk)
            return writer.commit()

    def get_bytes(self, bucket: str, key: str) -> bytes:
        _, stream = self.open_reader(bucket, key)
        with stream:
            return stream.read()

    def download_file(self, bucket: str, key: str, destination: Path) -> ObjectInfo:
        """Write the object to ``destination`` (parents created), replacing any file there."""
        destination.parent.mkdir(parents=True, exist_ok=True)
        info, stream = self.open_reader(bucket, key)
        partial = destination.with_name(destination.name + ".partial")
        with stream, partial.open("wb") as target:
            shutil.copyfileobj(stream, target, 1 << 20)
        partial.replace(destination)
        return info

    def close(self) -> None:  # noqa: B027 - an optional hook: not every backend holds connections
        """Release connections or files the backend holds."""
