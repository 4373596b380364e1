"""The local object store: object bytes as plain files, metadata in a SQLite index beside them.

Layout under the root folder::

    <root>/<bucket>/<key path>        the object's bytes, browsable (see ``keys`` for escaping)
    <root>/.opensage-index.db         sizes, ETags, metadata, checksums, multipart state
    <root>/.opensage-tmp/             bodies being received (locked while their writer lives)
    <root>/.opensage-uploads/<id>/    parts of multipart uploads

A write streams to a temp file, fsyncs it, renames it into place, fsyncs the folder and commits
the index row, all while holding the index's write lock, so readers never see a partial
object and the row always describes the file. A crash between rename and commit is repaired
when the store is next opened (see ``repair``) or when the key is next read.

Limitation: keys are files and ``/`` separates folders, so a key and a key that continues
it after a ``/`` cannot both exist (``a`` and ``a/b``; also ``a`` and the folder marker
``a/``). Such a write raises ObjectPathConflict; S3 itself allows it. On a case-insensitive
file system (macOS, Windows) keys that differ only in case share a file; use a
case-sensitive volume for such data.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import BinaryIO

from opensage.errors import (
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InternalError,
    NoSuchBucket,
    NoSuchKey,
    S3NotImplemented,
)
from opensage.objects import multipart, records
from opensage.objects.base import (
    BucketEncryption,
    BucketInfo,
    ListPage,
    ObjectInfo,
    ObjectStore,
    ObjectWriter,
    PartInfo,
    PartWriter,
    UploadInfo,
    WriteOptions,
)
from opensage.objects.encryption import (
    KeyRing,
    SealedBody,
    check_algorithm,
    decrypting_stream,
    encryption_context,
)
from opensage.objects.files import (
    TempFile,
    fsync_directory,
    make_directories,
    remove_abandoned_temp_files,
    remove_empty_parents,
)
from opensage.objects.index import IndexDatabase
from opensage.objects.keys import validate_bucket_name, validate_key
from opensage.objects.layout import StoreLayout
from opensage.objects.listing import list_page
from opensage.objects.placement import check_path_free, place_file
from opensage.objects.readers import last_byte, range_stream
from opensage.objects.records import ObjectRecord
from opensage.objects.repair import reconcile_key, regular_file_stat
from opensage.objects.writers import BodySink, LocalObjectWriter

_COPY_CHUNK = 1 << 20
# Opening a reader retries this often when a writer replaces the file in between.
_OPEN_ATTEMPTS = 5

Guard = Callable[[sqlite3.Connection], None]


class LocalObjectStore(ObjectStore):
    """Buckets and objects under one folder; safe for several threads and processes at once."""

    def __init__(self, root: Path, keyring: KeyRing | None = None) -> None:
        # Without a keyring the store reads and writes only unencrypted objects.
        self.keyring = keyring
        self.layout = StoreLayout(Path(root).absolute())
        self.layout.create()
        self.index = IndexDatabase(self.layout.index_path)
        self._recover()

    @property
    def root(self) -> Path:
        return self.layout.root

    # --- buckets ---

    def create_bucket(self, name: str, region: str) -> BucketInfo:
        validate_bucket_name(name)
        with self.index.write() as connection:
            if records.get_bucket(connection, name) is not None:
                raise BucketAlreadyOwnedByYou(
                    f"Bucket {name!r} already exists and is yours; choose another name or use it as it is."
                )
            records.insert_bucket(connection, name, region, time.time_ns())
            make_directories(self.layout.bucket_dir(name), self.layout.root)
            info = records.get_bucket(connection, name)
        if info is None:
            raise InternalError(f"Bucket {name!r} vanished while it was being created.")
        return info

    def head_bucket(self, name: str) -> BucketInfo:
        with self.index.read() as connection:
            return self.require_bucket(connection, name)

    def list_buckets(self) -> list[BucketInfo]:
        with self.index.read() as connection:
            return records.list_buckets(connection)

    def delete_bucket(self, name: str) -> None:
        with self.index.write() as connection:
            self.require_bucket(connection, name)
            if records.bucket_has_contents(connection, name):
                raise BucketNotEmpty(
                    f"The bucket {name!r} you tried to delete is not empty; delete its objects and "
                    "abort its multipart uploads first."
                )
            bucket_dir = self.layout.bucket_dir(name)
            if _holds_files(bucket_dir):
                raise BucketNotEmpty(
                    f"The folder of bucket {name!r} ({bucket_dir}) holds files the store does not know "
                    "about; move or delete them first."
                )
            records.delete_bucket(connection, name)
            shutil.rmtree(bucket_dir, ignore_errors=True)

    def put_bucket_encryption(self, name: str, encryption: BucketEncryption | None) -> None:
        if encryption is not None:
            check_algorithm(encryption.algorithm)
        with self.index.write() as connection:
            self.require_bucket(connection, name)
            records.put_bucket_encryption(connection, name, encryption)

    def get_bucket_encryption(self, name: str) -> BucketEncryption | None:
        with self.index.read() as connection:
            self.require_bucket(connection, name)
            return records.get_bucket_encryption(connection, name)

    def require_bucket(self, connection: sqlite3.Connection, name: str) -> BucketInfo:
        info = records.get_bucket(connection, name)
        if info is None:
            raise NoSuchBucket(f"The specified bucket {name!r} does not exist.")
        return info

    # --- objects ---

    def open_writer(self, bucket: str, key: str, options: WriteOptions | None = None) -> ObjectWriter:
        validate_key(key)
        self.head_bucket(bucket)
        # Fail before the client sends a body that could never be stored.
        check_path_free(self.layout, bucket, key)
        options = options or WriteOptions()
        # The data key is made (and the KMS key checked) before any of the body is received.
        cipher = self.body_cipher(bucket, key, options)
        sink = BodySink(self.layout.temp_dir, options, "put-", cipher)
        return LocalObjectWriter(sink, partial(self._publish_body, bucket, key))

    def body_cipher(
        self, bucket: str, key: str, options: WriteOptions
    ) -> tuple[SealedBody, bytes, str] | None:
        """The sealed data key, its plaintext and the object identity to encrypt a write with, if any."""
        algorithm, key_id = options.sse, options.sse_kms_key_id
        if algorithm is None:
            default = self.get_bucket_encryption(bucket)
            if default is None:
                return None
            algorithm, key_id = default.algorithm, default.kms_key_id
        check_algorithm(algorithm)
        if self.keyring is None:
            raise S3NotImplemented(
                f"s3://{bucket}/{key} is to be encrypted ({algorithm}), but this process opened the object "
                "store without KMS keys."
            )
        data_key = self.keyring.new_data_key(algorithm, key_id, encryption_context(bucket, key))
        sealed = SealedBody(algorithm, data_key.key_arn, data_key.wrapped)
        return sealed, data_key.plaintext, f"{bucket}/{key}"

    def _publish_body(self, bucket: str, key: str, sink: BodySink) -> ObjectInfo:
        stat = sink.finish()
        options = sink.options
        record = ObjectRecord(
            bucket=bucket,
            key=key,
            size=sink.digests.size,
            etag=sink.digests.md5_hex(),
            last_modified_ns=time.time_ns(),
            content_type=options.content_type,
            metadata=dict(options.metadata),
            headers=dict(options.headers),
            checksums=sink.digests.checksums(),
            file_mtime_ns=stat.st_mtime_ns,
            encryption=None if sink.sealed is None else sink.sealed.to_row(),
        )
        return self.commit_file(sink.temp, record).to_info()

    def commit_file(self, temp: TempFile, record: ObjectRecord, guard: Guard | None = None) -> ObjectRecord:
        """Move a synced temp file into place as ``record``'s object and commit the row.

        ``guard`` runs in the same transaction first; it may raise to cancel the commit.
        """
        bucket, key = record.bucket, record.key
        with self.index.write() as connection:
            intent = records.add_intent(connection, bucket, key, "put", record, time.time_ns())
        placed = False
        try:
            with self.index.write() as connection:
                self.require_bucket(connection, bucket)
                if guard is not None:
                    guard(connection)
                place_file(self.layout, temp, bucket, key)
                placed = True
                records.put_object(connection, record)
                records.remove_intents(connection, bucket, key)
        except BaseException:
            if not placed:
                with self.index.write() as connection:
                    records.remove_intent(connection, intent)
            raise
        return record

    def head_object(self, bucket: str, key: str) -> ObjectInfo:
        return self._current(bucket, key).to_info()

    def _current(self, bucket: str, key: str) -> ObjectRecord:
        """The row of ``key``, repaired first if its file no longer matches it."""
        validate_key(key)
        path = self.layout.object_path(bucket, key)
        with self.index.read() as connection:
            row = records.get_object(connection, bucket, key)
            found = regular_file_stat(path)
            if row is not None and found is not None and row.matches(found):
                return row
            if row is None and found is None:
                self.require_bucket(connection, bucket)
                raise _no_such_key(key)
        with self.index.write() as connection:
            self.require_bucket(connection, bucket)
            repaired = reconcile_key(connection, path, self.layout.bucket_dir(bucket), bucket, key)
        if repaired is None:
            raise _no_such_key(key)
        return repaired

    def open_reader(
        self, bucket: str, key: str, start: int = 0, end: int | None = None
    ) -> tuple[ObjectInfo, BinaryIO]:
        path = self.layout.object_path(bucket, key)
        for _ in range(_OPEN_ATTEMPTS):
            record = self._current(bucket, key)
            last = last_byte(record.size, start, end)
            try:
                handle = path.open("rb")
            except (FileNotFoundError, IsADirectoryError):
                continue
            if record.matches(os.fstat(handle.fileno())):
                return record.to_info(), self._plaintext(record, handle, start, last)
            handle.close()
        raise InternalError(f"Object {key!r} kept changing while it was being opened; retry the request.")

    def _plaintext(self, record: ObjectRecord, handle: BinaryIO, start: int, last: int) -> BinaryIO:
        sealed = record.sealed
        if sealed is None:
            return range_stream(handle, start, last, record.size)
        try:
            data_key = self.open_data_key(record.bucket, record.key, sealed)
        except BaseException:
            handle.close()
            raise
        identity = f"{record.bucket}/{record.key}"
        return decrypting_stream(handle, data_key, identity, record.size, start, last)

    def open_data_key(self, bucket: str, key: str, sealed: SealedBody) -> bytes:
        if self.keyring is None:
            raise S3NotImplemented(
                f"s3://{bucket}/{key} is encrypted ({sealed.algorithm}), but this process opened the object "
                "store without KMS keys."
            )
        context = encryption_context(bucket, key)
        return self.keyring.open_data_key(sealed.algorithm, sealed.key_arn, sealed.wrapped_key, context)

    def delete_object(self, bucket: str, key: str) -> None:
        validate_key(key)
        path = self.layout.object_path(bucket, key)
        with self.index.write() as connection:
            self.require_bucket(connection, bucket)
            if records.get_object(connection, bucket, key) is None and regular_file_stat(path) is None:
                return
            records.add_intent(connection, bucket, key, "delete", None, time.time_ns())
        with self.index.write() as connection:
            if regular_file_stat(path) is not None:
                path.unlink()
                # Without this a crash could bring the file back, and access would adopt it again.
                fsync_directory(path.parent)
                remove_empty_parents(path, self.layout.bucket_dir(bucket))
            records.delete_object(connection, bucket, key)
            records.remove_intents(connection, bucket, key)

    def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        bucket: str,
        key: str,
        options: WriteOptions | None = None,
    ) -> ObjectInfo:
        info, stream = self.open_reader(source_bucket, source_key)
        with stream:
            if options is None:
                # The copy is encrypted as the target bucket's default says, not as the source was.
                options = WriteOptions(
                    content_type=info.content_type, metadata=info.metadata, headers=info.headers
                )
            if not options.checksum_algorithms:
                options = replace(options, checksum_algorithms=tuple(info.checksums))
            with self.open_writer(bucket, key, options) as writer:
                while chunk := stream.read(_COPY_CHUNK):
                    writer.write(chunk)
                return writer.commit()

    def list_objects(
        self,
        bucket: str,
        prefix: str = "",
        delimiter: str | None = None,
        start_after: str | None = None,
        max_keys: int = 1000,
    ) -> ListPage:
        with self.index.read() as connection:
            self.require_bucket(connection, bucket)
            fetch = partial(records.fetch_objects, connection, bucket)
            page = list_page(fetch, prefix, delimiter, start_after, max_keys)
        return ListPage(
            [row.to_info() for row in page.objects],
            page.common_prefixes,
            page.is_truncated,
            page.last_returned,
        )

    # --- multipart ---

    def create_multipart_upload(self, bucket: str, key: str, options: WriteOptions | None = None) -> str:
        return multipart.create_upload(self, bucket, key, options or WriteOptions())

    def open_part_writer(
        self, bucket: str, key: str, upload_id: str, part_number: int, options: WriteOptions | None = None
    ) -> PartWriter:
        return multipart.open_part_writer(
            self, bucket, key, upload_id, part_number, options or WriteOptions()
        )

    def complete_multipart_upload(
        self, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
    ) -> ObjectInfo:
        return multipart.complete_upload(self, bucket, key, upload_id, parts)

    def abort_multipart_upload(self, bucket: str, key: str, upload_id: str) -> None:
        multipart.abort_upload(self, bucket, key, upload_id)

    def list_parts(self, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
        return multipart.list_upload_parts(self, bucket, key, upload_id)

    def list_multipart_uploads(self, bucket: str) -> list[UploadInfo]:
        with self.index.read() as connection:
            self.require_bucket(connection, bucket)
            return [upload.to_info() for upload in records.list_uploads(connection, bucket)]

    # --- upkeep ---

    def rescan(self) -> int:
        """Make the index agree with every bucket folder (files added or removed by hand); return fixes."""
        fixed = 0
        for bucket in self.list_buckets():
            bucket_dir = self.layout.bucket_dir(bucket.name)
            for key in self._keys_on_disk(bucket.name) | self._keys_in_index(bucket.name):
                path = self.layout.object_path(bucket.name, key)
                with self.index.read() as connection:
                    row = records.get_object(connection, bucket.name, key)
                found = regular_file_stat(path)
                if row is not None and found is not None and row.matches(found):
                    continue
                with self.index.write() as connection:
                    reconcile_key(connection, path, bucket_dir, bucket.name, key)
                fixed += 1
        return fixed

    def _keys_on_disk(self, bucket: str) -> set[str]:
        keys: set[str] = set()
        for folder, _, files in os.walk(self.layout.bucket_dir(bucket)):
            for name in files:
                try:
                    keys.add(self.layout.key_of(bucket, Path(folder) / name))
                except ValueError:
                    continue  # not a name this store writes; leave the user's file alone
        return keys

    def _keys_in_index(self, bucket: str) -> set[str]:
        return {info.key for info in self.iter_objects(bucket)}

    def _recover(self) -> None:
        """Finish what a crashed process left: temp files, pending changes, orphaned upload folders."""
        remove_abandoned_temp_files(self.layout.temp_dir)
        with self.index.read() as connection:
            intents = records.list_intents(connection)
        for intent in intents:
            path = self.layout.object_path(intent.bucket, intent.key)
            bucket_dir = self.layout.bucket_dir(intent.bucket)
            with self.index.write() as connection:
                reconcile_key(
                    connection, path, bucket_dir, intent.bucket, intent.key, intent.kind, intent.record
                )
                records.remove_intent(connection, intent.id)
        multipart.remove_orphaned_upload_dirs(self)

    def close(self) -> None:
        self.index.close()


def _holds_files(folder: Path) -> bool:
    return any(files for _, _, files in os.walk(folder))


def _no_such_key(key: str) -> NoSuchKey:
    return NoSuchKey(f"The specified key {key!r} does not exist.")
