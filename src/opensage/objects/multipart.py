"""Multipart uploads of the local object store: parts as files in a hidden folder, joined on completion."""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
import sqlite3
import time
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING

from opensage.errors import (
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    InvalidRequest,
    NoSuchUpload,
)
from opensage.objects import records
from opensage.objects.base import ObjectInfo, PartInfo, PartWriter, WriteOptions
from opensage.objects.checksums import Digests, multipart_etag, normalize_algorithms
from opensage.objects.encryption import FrameEncryptor
from opensage.objects.files import ABANDONED_AFTER_SECONDS, TempFile, make_directories
from opensage.objects.keys import validate_key
from opensage.objects.layout import is_upload_id
from opensage.objects.records import ObjectRecord, PartRecord, UploadRecord
from opensage.objects.writers import BodySink, LocalPartWriter

if TYPE_CHECKING:
    from opensage.objects.local_objects import LocalObjectStore

MIN_PART_SIZE = 5 * 1024 * 1024
MAX_PART_NUMBER = 10_000
_COPY_CHUNK = 1 << 20


def create_upload(store: LocalObjectStore, bucket: str, key: str, options: WriteOptions) -> str:
    validate_key(key)
    normalize_algorithms(options.checksum_algorithms)
    # Check the encryption key now, not after gigabytes of parts; the object gets its own data key.
    store.body_cipher(bucket, key, options)
    upload = UploadRecord(secrets.token_urlsafe(32), bucket, key, options, time.time_ns())
    with store.index.write() as connection:
        store.require_bucket(connection, bucket)
        records.insert_upload(connection, upload)
    # The upload's folder is made by its first part, so a crash here leaves nothing to clean.
    return upload.upload_id


def require_upload(connection: sqlite3.Connection, bucket: str, key: str, upload_id: str) -> UploadRecord:
    upload = records.get_upload(connection, upload_id) if is_upload_id(upload_id) else None
    if upload is None or upload.bucket != bucket or upload.key != key:
        raise NoSuchUpload(
            "The specified multipart upload does not exist. The upload ID may be invalid, or the upload "
            "may have been aborted or completed."
        )
    return upload


def open_part_writer(
    store: LocalObjectStore, bucket: str, key: str, upload_id: str, part_number: int, options: WriteOptions
) -> PartWriter:
    if not 1 <= part_number <= MAX_PART_NUMBER:
        raise InvalidArgument(f"Part number must be an integer between 1 and {MAX_PART_NUMBER}, inclusive.")
    with store.index.read() as connection:
        store.require_bucket(connection, bucket)
        upload = require_upload(connection, bucket, key, upload_id)
    keep = normalize_algorithms([*upload.options.checksum_algorithms, *options.checksum_algorithms])
    sink = BodySink(store.layout.temp_dir, replace(options, checksum_algorithms=keep), "part-")
    return LocalPartWriter(sink, partial(_publish_part, store, bucket, key, upload_id, part_number))


def _publish_part(
    store: LocalObjectStore, bucket: str, key: str, upload_id: str, part_number: int, sink: BodySink
) -> PartInfo:
    stat = sink.finish()
    part = PartRecord(
        part_number=part_number,
        etag=sink.digests.md5_hex(),
        size=stat.st_size,
        last_modified_ns=time.time_ns(),
        checksums=sink.digests.checksums(),
        file_mtime_ns=stat.st_mtime_ns,
    )
    path = store.layout.part_path(upload_id, part_number)
    with store.index.write() as connection:
        require_upload(connection, bucket, key, upload_id)
        make_directories(path.parent, store.layout.root)
        sink.temp.publish(path)
        records.put_part(connection, upload_id, part)
    return part.to_info()


def list_upload_parts(store: LocalObjectStore, bucket: str, key: str, upload_id: str) -> list[PartInfo]:
    with store.index.read() as connection:
        store.require_bucket(connection, bucket)
        require_upload(connection, bucket, key, upload_id)
        return [part.to_info() for part in records.list_parts(connection, upload_id)]


def abort_upload(store: LocalObjectStore, bucket: str, key: str, upload_id: str) -> None:
    with store.index.write() as connection:
        store.require_bucket(connection, bucket)
        require_upload(connection, bucket, key, upload_id)
        records.delete_upload(connection, upload_id)
    shutil.rmtree(store.layout.upload_dir(upload_id), ignore_errors=True)


def complete_upload(
    store: LocalObjectStore, bucket: str, key: str, upload_id: str, parts: list[tuple[int, str]]
) -> ObjectInfo:
    with store.index.read() as connection:
        store.require_bucket(connection, bucket)
        upload = require_upload(connection, bucket, key, upload_id)
        stored = {part.part_number: part for part in records.list_parts(connection, upload_id)}
    chosen = _chosen_parts(parts, stored)
    temp = TempFile(store.layout.temp_dir, "complete-")
    try:
        record = _join_parts(store, upload, chosen, temp)
        store.commit_file(temp, record, partial(_finish_upload, bucket, key, upload_id))
    finally:
        temp.discard()
    shutil.rmtree(store.layout.upload_dir(upload_id), ignore_errors=True)
    return record.to_info()


def _chosen_parts(parts: list[tuple[int, str]], stored: dict[int, PartRecord]) -> list[PartRecord]:
    """Check the client's part list against the uploaded parts, as S3 does."""
    if not parts:
        raise InvalidRequest("You must specify at least one part to complete a multipart upload.")
    numbers = [number for number, _ in parts]
    if any(later <= earlier for earlier, later in itertools.pairwise(numbers)):
        raise InvalidPartOrder("The list of parts was not in ascending order; list them by part number.")
    chosen: list[PartRecord] = []
    for number, etag in parts:
        part = stored.get(number)
        if part is None or etag.strip().strip('"') != part.etag:
            raise InvalidPart(
                f"Part {number} could not be found or its ETag does not match; the part may not have been "
                "uploaded, or the ETag given is not the one UploadPart returned."
            )
        chosen.append(part)
    for part in chosen[:-1]:
        if part.size < MIN_PART_SIZE:
            raise EntityTooSmall(
                f"Part {part.part_number} is {part.size} bytes; every part but the last must be at least "
                f"{MIN_PART_SIZE} bytes (5 MiB)."
            )
    return chosen


def _join_parts(
    store: LocalObjectStore, upload: UploadRecord, parts: list[PartRecord], temp: TempFile
) -> ObjectRecord:
    # Full-object checksums for the algorithms asked for at creation or carried by every part.
    carried = set.intersection(*(set(part.checksums) for part in parts))
    digests = Digests([*upload.options.checksum_algorithms, *carried])
    cipher = store.body_cipher(upload.bucket, upload.key, upload.options)
    encryptor = None if cipher is None else FrameEncryptor(cipher[1], cipher[2], temp.write)
    for part in parts:
        with store.layout.part_path(upload.upload_id, part.part_number).open("rb") as source:
            if not part.matches(os.fstat(source.fileno())):
                raise InvalidPart(f"Part {part.part_number} changed after it was uploaded; upload it again.")
            while chunk := source.read(_COPY_CHUNK):
                digests.update(chunk)
                if encryptor is None:
                    temp.write(chunk)
                else:
                    encryptor.write(chunk)
    if encryptor is not None:
        encryptor.finish()
    stat = temp.sync()
    options = upload.options
    return ObjectRecord(
        bucket=upload.bucket,
        key=upload.key,
        size=digests.size,
        etag=multipart_etag(bytes.fromhex(part.etag) for part in parts),
        last_modified_ns=time.time_ns(),
        content_type=options.content_type,
        metadata=dict(options.metadata),
        headers=dict(options.headers),
        checksums=digests.checksums(),
        file_mtime_ns=stat.st_mtime_ns,
        encryption=None if cipher is None else cipher[0].to_row(),
    )


def _finish_upload(bucket: str, key: str, upload_id: str, connection: sqlite3.Connection) -> None:
    # A concurrent abort or completion wins; this one then fails with NoSuchUpload.
    require_upload(connection, bucket, key, upload_id)
    records.delete_upload(connection, upload_id)


def remove_orphaned_upload_dirs(store: LocalObjectStore) -> None:
    """Remove part folders of uploads that were completed or aborted by a process that then crashed."""
    with store.index.read() as connection:
        known = records.all_upload_ids(connection)
    now = time.time()
    for folder in store.layout.uploads_dir.iterdir():
        if folder.name in known or now - folder.stat().st_mtime < ABANDONED_AFTER_SECONDS:
            continue
        shutil.rmtree(folder, ignore_errors=True)
