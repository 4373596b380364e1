"""The local object store: buckets, objects on disk, metadata, digests, atomic writes, path conflicts."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import zlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from tests.unit.objects.conftest import BUCKET
from tests.unit.objects.test_keys import KEYS

from opensage.errors import (
    BadDigest,
    BucketAlreadyOwnedByYou,
    BucketNotEmpty,
    InvalidBucketName,
    InvalidDigest,
    InvalidRange,
    NoSuchBucket,
    NoSuchKey,
    ObjectPathConflict,
    ValidationError,
)
from opensage.objects import open_object_store
from opensage.objects.base import WriteOptions
from opensage.objects.local_objects import LocalObjectStore


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def visible_files(root: Path) -> list[str]:
    return sorted(
        p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".opensage" not in str(p)
    )


def test_factory_opens_file_urls_and_names_supported_schemes(tmp_path: Path) -> None:
    store = open_object_store((tmp_path / "o").as_uri())
    assert isinstance(store, LocalObjectStore)
    store.close()
    with pytest.raises(ValidationError, match="file://"):
        open_object_store("s3://bucket/prefix")
    with pytest.raises(ValidationError, match="absolute"):
        open_object_store("file://relative/path")


def test_bucket_lifecycle(store: LocalObjectStore) -> None:
    created = store.create_bucket("second-bucket", "eu-west-1")
    assert created.region == "eu-west-1"
    assert [b.name for b in store.list_buckets()] == ["second-bucket", BUCKET]
    assert store.head_bucket("second-bucket").creation_date == created.creation_date
    with pytest.raises(BucketAlreadyOwnedByYou):
        store.create_bucket("second-bucket", "eu-west-1")
    with pytest.raises(InvalidBucketName):
        store.create_bucket("Bad_Name", "us-east-1")
    store.put_bytes("second-bucket", "k", b"x")
    with pytest.raises(BucketNotEmpty):
        store.delete_bucket("second-bucket")
    store.delete_object("second-bucket", "k")
    store.delete_bucket("second-bucket")
    with pytest.raises(NoSuchBucket):
        store.head_bucket("second-bucket")
    assert not (store.root / "second-bucket").exists()


def test_bucket_with_an_open_upload_is_not_empty(store: LocalObjectStore) -> None:
    upload = store.create_multipart_upload(BUCKET, "k")
    with pytest.raises(BucketNotEmpty):
        store.delete_bucket(BUCKET)
    store.abort_multipart_upload(BUCKET, "k", upload)
    store.delete_bucket(BUCKET)


def test_object_bytes_are_plain_files_under_the_bucket(store: LocalObjectStore) -> None:
    info = store.put_bytes(BUCKET, "data/train set/part+1.csv", b"1,2\n3,4\n")
    assert (store.root / BUCKET / "data/train set/part+1.csv").read_bytes() == b"1,2\n3,4\n"
    assert info.etag == hashlib.md5(b"1,2\n3,4\n").hexdigest()
    assert info.size == 8
    assert store.get_bytes(BUCKET, "data/train set/part+1.csv") == b"1,2\n3,4\n"


def test_metadata_and_headers_are_kept(store: LocalObjectStore) -> None:
    options = WriteOptions(
        content_type="text/csv",
        metadata={"owner": "me"},
        headers={"cache-control": "no-cache"},
        checksum_algorithms=("SHA256",),
    )
    store.put_bytes(BUCKET, "k", b"abc", options)
    info = store.head_object(BUCKET, "k")
    assert (info.content_type, info.metadata, info.headers) == (
        "text/csv",
        {"owner": "me"},
        {"cache-control": "no-cache"},
    )
    assert info.checksums == {"SHA256": b64(hashlib.sha256(b"abc").digest())}


def test_missing_objects_and_buckets(store: LocalObjectStore) -> None:
    with pytest.raises(NoSuchKey):
        store.head_object(BUCKET, "missing")
    with pytest.raises(NoSuchKey):
        store.open_reader(BUCKET, "missing")
    with pytest.raises(NoSuchBucket):
        store.head_object("no-such-bucket", "k")
    with pytest.raises(NoSuchBucket):
        store.open_writer("no-such-bucket", "k")
    with pytest.raises(NoSuchBucket):
        store.delete_object("no-such-bucket", "k")
    store.delete_object(BUCKET, "missing")  # deleting a missing key succeeds, as in S3


def test_ranges(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "k", bytes(range(10)))
    info, stream = store.open_reader(BUCKET, "k", 2, 4)
    with stream:
        assert stream.read() == bytes([2, 3, 4])
    _, stream = store.open_reader(BUCKET, "k", 7)
    with stream:
        assert stream.read() == bytes([7, 8, 9])
    _, stream = store.open_reader(BUCKET, "k", 8, 100)
    with stream:
        assert stream.read() == bytes([8, 9])
    with pytest.raises(InvalidRange):
        store.open_reader(BUCKET, "k", 10)
    assert info.size == 10


def test_empty_object_and_folder_marker(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "folder/", b"")
    store.put_bytes(BUCKET, "folder/inside.txt", b"x")
    assert store.get_bytes(BUCKET, "folder/") == b""
    assert [o.key for o in store.iter_objects(BUCKET)] == ["folder/", "folder/inside.txt"]


def test_keys_that_would_escape_are_kept_inside_the_bucket(store: LocalObjectStore) -> None:
    keys = ["../outside", "/abs", "a//b", "./x", "back\\slash", "nul\x00byte", "end/.."]
    for key in keys:
        store.put_bytes(BUCKET, key, key.encode())
    for key in keys:
        assert store.get_bytes(BUCKET, key) == key.encode()
    assert sorted(p.name for p in store.root.parent.iterdir()) == ["objects"]
    assert visible_files(store.root / BUCKET) == sorted(
        ["%2E%2E/outside", "%/abs", "a/%/b", "%2E/x", "back%5Cslash", "nul%00byte", "end/%2E%2E"]
    )


def test_a_key_and_its_folder_cannot_both_exist(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "a", b"file")
    with pytest.raises(ObjectPathConflict, match="'a' is already an object"):
        store.put_bytes(BUCKET, "a/b", b"x")
    store.put_bytes(BUCKET, "c/d", b"x")
    with pytest.raises(ObjectPathConflict, match="'c/'"):
        store.put_bytes(BUCKET, "c", b"x")
    store.delete_object(BUCKET, "c/d")
    store.put_bytes(BUCKET, "c", b"now fine")  # the emptied folder was removed with the last key
    assert store.get_bytes(BUCKET, "c") == b"now fine"


def test_overwrite_replaces_bytes_and_row(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "k", b"first", WriteOptions(content_type="text/plain"))
    store.put_bytes(BUCKET, "k", b"second!")
    info = store.head_object(BUCKET, "k")
    assert (info.size, info.content_type) == (7, "binary/octet-stream")
    assert store.get_bytes(BUCKET, "k") == b"second!"


def test_content_md5_and_checksums_are_verified(store: LocalObjectStore) -> None:
    body = b"payload"
    good = WriteOptions(
        content_md5=b64(hashlib.md5(body).digest()),
        expected_checksums={"CRC32": b64(zlib.crc32(body).to_bytes(4, "big"))},
    )
    info = store.put_bytes(BUCKET, "good", body, good)
    assert info.checksums == {"CRC32": good.expected_checksums["CRC32"]}
    bad_cases = [
        WriteOptions(content_md5=b64(hashlib.md5(b"other").digest())),
        WriteOptions(expected_checksums={"CRC32": b64(zlib.crc32(b"other").to_bytes(4, "big"))}),
        WriteOptions(expected_checksums={"CRC32C": b64(b"\0\0\0\0")}),
        WriteOptions(expected_checksums={"SHA1": b64(hashlib.sha1(b"other").digest())}),
        WriteOptions(expected_checksums={"SHA256": b64(hashlib.sha256(b"other").digest())}),
    ]
    for options in bad_cases:
        with pytest.raises(BadDigest):
            store.put_bytes(BUCKET, "bad", body, options)
        with pytest.raises(NoSuchKey):
            store.head_object(BUCKET, "bad")
    assert visible_files(store.root) == [f"{BUCKET}/good"]
    assert list((store.root / ".opensage-tmp").iterdir()) == []
    with pytest.raises(InvalidDigest):
        store.put_bytes(BUCKET, "bad", body, WriteOptions(content_md5="not base64!"))


def test_a_failed_overwrite_keeps_the_old_object(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "k", b"old")
    with pytest.raises(BadDigest):
        store.put_bytes(BUCKET, "k", b"new", WriteOptions(content_md5=b64(hashlib.md5(b"x").digest())))
    assert store.get_bytes(BUCKET, "k") == b"old"


def test_nothing_is_visible_before_commit(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "k", b"old")
    writer = store.open_writer(BUCKET, "k")
    writer.write(b"new bytes")
    assert store.get_bytes(BUCKET, "k") == b"old"
    assert store.list_objects(BUCKET).objects[0].size == 3
    writer.commit()
    assert store.get_bytes(BUCKET, "k") == b"new bytes"


def test_abort_and_unfinished_writers_leave_no_trace(store: LocalObjectStore) -> None:
    writer = store.open_writer(BUCKET, "aborted")
    writer.write(b"x" * 1000)
    writer.abort()
    with store.open_writer(BUCKET, "never-committed") as unfinished:
        unfinished.write(b"y")
    with pytest.raises(RuntimeError), store.open_writer(BUCKET, "failed") as failing:
        failing.write(b"z")
        raise RuntimeError("client went away")
    assert store.list_objects(BUCKET).objects == []
    assert list((store.root / ".opensage-tmp").iterdir()) == []


def test_a_reader_keeps_the_version_it_opened(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "k", b"A" * 100)
    info, stream = store.open_reader(BUCKET, "k")
    store.put_bytes(BUCKET, "k", b"B" * 50)
    store.delete_object(BUCKET, "k")
    with stream:
        assert stream.read() == b"A" * 100
    assert info.size == 100


def test_copy_object_keeps_or_replaces_metadata(store: LocalObjectStore) -> None:
    source = WriteOptions(content_type="text/plain", metadata={"a": "1"}, checksum_algorithms=("CRC32",))
    store.put_bytes(BUCKET, "src", b"copy me", source)
    copied = store.copy_object(BUCKET, "src", BUCKET, "dst")
    assert (copied.content_type, copied.metadata, set(copied.checksums)) == (
        "text/plain",
        {"a": "1"},
        {"CRC32"},
    )
    replaced = store.copy_object(BUCKET, "src", BUCKET, "dst2", WriteOptions(content_type="x/y"))
    assert (replaced.content_type, replaced.metadata) == ("x/y", {})
    assert store.get_bytes(BUCKET, "dst2") == b"copy me"
    assert copied.etag == replaced.etag == hashlib.md5(b"copy me").hexdigest()


def test_put_and_download_file(store: LocalObjectStore, tmp_path: Path) -> None:
    source = tmp_path / "in.bin"
    source.write_bytes(b"0123456789" * 100_000)
    store.put_file(BUCKET, "file.bin", source, chunk_size=65536)
    target = tmp_path / "out" / "copy.bin"
    info = store.download_file(BUCKET, "file.bin", target)
    assert target.read_bytes() == source.read_bytes()
    assert info.size == 1_000_000


def test_store_reopens_with_everything_in_place(store: LocalObjectStore, store_root: Path) -> None:
    store.put_bytes(BUCKET, "persist", b"kept", WriteOptions(metadata={"m": "v"}))
    store.close()
    reopened = LocalObjectStore(store_root)
    assert reopened.head_object(BUCKET, "persist").metadata == {"m": "v"}
    assert reopened.get_bytes(BUCKET, "persist") == b"kept"
    reopened.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=KEYS)
def test_any_key_round_trips_on_disk_and_stays_in_its_bucket(store: LocalObjectStore, key: str) -> None:
    store.put_bytes(BUCKET, key, key.encode())
    assert store.get_bytes(BUCKET, key) == key.encode()
    assert [o.key for o in store.iter_objects(BUCKET)] == [key]
    bucket_dir = (store.root / BUCKET).resolve()
    files = [p for p in store.root.rglob("*") if p.is_file() and not p.name.startswith(".opensage")]
    assert len(files) == 1 and files[0].resolve().is_relative_to(bucket_dir)
    assert store.layout.key_of(BUCKET, files[0]) == key
    store.delete_object(BUCKET, key)
    assert list(bucket_dir.iterdir()) == []


def test_longest_escaped_keys_fit(store: LocalObjectStore) -> None:
    for key in ("%" * 1024, "./" * 512, "é" * 512):
        store.put_bytes(BUCKET, key, b"x")
        assert store.head_object(BUCKET, key).key == key
        store.delete_object(BUCKET, key)


def test_short_lived_threads_do_not_leak_connections(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "k", b"v")

    def use_store() -> None:
        assert store.head_object(BUCKET, "k").size == 1

    before = len(os.listdir("/dev/fd"))
    for _ in range(60):
        thread = threading.Thread(target=use_store)
        thread.start()
        thread.join()
    assert len(os.listdir("/dev/fd")) - before < 10
