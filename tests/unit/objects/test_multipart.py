"""Multipart uploads in the local store: parts out of order, S3's ETag, validation, abort."""

from __future__ import annotations

import base64
import hashlib
import zlib

import pytest
from tests.unit.objects.conftest import BUCKET

from opensage.errors import (
    BadDigest,
    EntityTooSmall,
    InvalidArgument,
    InvalidPart,
    InvalidPartOrder,
    InvalidRequest,
    NoSuchUpload,
)
from opensage.objects.base import PartInfo, WriteOptions
from opensage.objects.local_objects import LocalObjectStore

MIB = 1024 * 1024


def upload_part(
    store: LocalObjectStore, key: str, upload: str, number: int, data: bytes, **options: object
) -> PartInfo:
    writer = store.open_part_writer(BUCKET, key, upload, number, WriteOptions(**options))  # type: ignore[arg-type]
    writer.write(data)
    return writer.commit()


def test_parts_uploaded_out_of_order_complete_in_order(store: LocalObjectStore) -> None:
    bodies = {1: b"a" * (5 * MIB), 2: b"b" * (5 * MIB), 3: b"tail"}
    upload = store.create_multipart_upload(
        BUCKET, "big", WriteOptions(content_type="text/plain", metadata={"k": "v"})
    )
    parts = {n: upload_part(store, "big", upload, n, bodies[n]) for n in (3, 1, 2)}
    assert [p.part_number for p in store.list_parts(BUCKET, "big", upload)] == [1, 2, 3]
    assert [u.upload_id for u in store.list_multipart_uploads(BUCKET)] == [upload]
    info = store.complete_multipart_upload(
        BUCKET, "big", upload, [(n, f'"{parts[n].etag}"') for n in (1, 2, 3)]
    )
    part_md5s = b"".join(hashlib.md5(bodies[n]).digest() for n in (1, 2, 3))
    assert info.etag == hashlib.md5(part_md5s).hexdigest() + "-3"
    assert (info.size, info.content_type, info.metadata) == (10 * MIB + 4, "text/plain", {"k": "v"})
    assert store.get_bytes(BUCKET, "big") == bodies[1] + bodies[2] + bodies[3]
    assert store.list_multipart_uploads(BUCKET) == []
    assert list((store.root / ".opensage-uploads").iterdir()) == []
    with pytest.raises(NoSuchUpload):
        store.list_parts(BUCKET, "big", upload)


def test_full_object_checksums_after_completion(store: LocalObjectStore) -> None:
    upload = store.create_multipart_upload(BUCKET, "sum", WriteOptions(checksum_algorithms=("CRC32",)))
    first, second = b"x" * (5 * MIB), b"y" * 10
    p1 = upload_part(store, "sum", upload, 1, first)
    p2 = upload_part(store, "sum", upload, 2, second)
    assert set(p1.checksums) == {"CRC32"}
    info = store.complete_multipart_upload(BUCKET, "sum", upload, [(1, p1.etag), (2, p2.etag)])
    assert info.checksums == {
        "CRC32": base64.b64encode(zlib.crc32(first + second).to_bytes(4, "big")).decode()
    }


def test_a_part_can_be_uploaded_again(store: LocalObjectStore) -> None:
    upload = store.create_multipart_upload(BUCKET, "k")
    upload_part(store, "k", upload, 1, b"first try")
    again = upload_part(store, "k", upload, 1, b"second try")
    info = store.complete_multipart_upload(BUCKET, "k", upload, [(1, again.etag)])
    assert store.get_bytes(BUCKET, "k") == b"second try"
    assert info.etag.endswith("-1")


def test_completion_is_validated(store: LocalObjectStore) -> None:
    upload = store.create_multipart_upload(BUCKET, "k")
    small = upload_part(store, "k", upload, 1, b"small")
    last = upload_part(store, "k", upload, 2, b"last")
    with pytest.raises(InvalidPartOrder):
        store.complete_multipart_upload(BUCKET, "k", upload, [(2, last.etag), (1, small.etag)])
    with pytest.raises(InvalidPartOrder):
        store.complete_multipart_upload(BUCKET, "k", upload, [(1, small.etag), (1, small.etag)])
    with pytest.raises(InvalidPart):
        store.complete_multipart_upload(BUCKET, "k", upload, [(1, last.etag)])
    with pytest.raises(InvalidPart):
        store.complete_multipart_upload(BUCKET, "k", upload, [(1, small.etag), (3, last.etag)])
    with pytest.raises(EntityTooSmall):
        store.complete_multipart_upload(BUCKET, "k", upload, [(1, small.etag), (2, last.etag)])
    with pytest.raises(InvalidRequest):
        store.complete_multipart_upload(BUCKET, "k", upload, [])
    with pytest.raises(NoSuchUpload):
        store.complete_multipart_upload(BUCKET, "other-key", upload, [(1, small.etag)])
    assert [p.part_number for p in store.list_parts(BUCKET, "k", upload)] == [1, 2]  # nothing was consumed


def test_part_numbers_and_upload_ids_are_checked(store: LocalObjectStore) -> None:
    upload = store.create_multipart_upload(BUCKET, "k")
    for number in (0, 10_001):
        with pytest.raises(InvalidArgument):
            store.open_part_writer(BUCKET, "k", upload, number)
    for bad_id in ("../../etc", "nope", upload + "x"):
        with pytest.raises(NoSuchUpload):
            store.open_part_writer(BUCKET, "k", bad_id, 1)


def test_part_digests_are_verified(store: LocalObjectStore) -> None:
    upload = store.create_multipart_upload(BUCKET, "k")
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    with pytest.raises(BadDigest, match="Content-MD5"):
        upload_part(store, "k", upload, 1, b"data", content_md5=wrong)
    assert store.list_parts(BUCKET, "k", upload) == []


def test_abort_removes_parts_and_late_parts_fail(store: LocalObjectStore) -> None:
    upload = store.create_multipart_upload(BUCKET, "k")
    upload_part(store, "k", upload, 1, b"data")
    late = store.open_part_writer(BUCKET, "k", upload, 2)
    late.write(b"arrives after the abort")
    store.abort_multipart_upload(BUCKET, "k", upload)
    with pytest.raises(NoSuchUpload):
        late.commit()
    with pytest.raises(NoSuchUpload):
        store.abort_multipart_upload(BUCKET, "k", upload)
    assert list((store.root / ".opensage-uploads").iterdir()) == []
    assert list((store.root / ".opensage-tmp").iterdir()) == []
    store.delete_bucket(BUCKET)
