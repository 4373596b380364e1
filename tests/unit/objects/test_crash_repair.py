"""Crash repair: rows and files that disagree after a crash are reconciled on open or on access."""

from __future__ import annotations

import base64
import hashlib
import multiprocessing
import os
import time
from pathlib import Path

import pytest
from tests.unit.objects.conftest import BUCKET

from opensage.errors import NoSuchKey
from opensage.objects import records
from opensage.objects.base import WriteOptions
from opensage.objects.files import TempFile
from opensage.objects.local_objects import LocalObjectStore


class Crash(BaseException):
    """Stands for the process dying at this point: nothing after it runs."""


def crash(*args: object, **kwargs: object) -> None:
    raise Crash


def pending_intents(store: LocalObjectStore) -> list[records.Intent]:
    with store.index.read() as connection:
        return records.list_intents(connection)


def age(path: Path, seconds: float) -> None:
    past = time.time() - seconds
    os.utime(path, (past, past))


def test_file_changed_behind_the_index_is_rehashed_on_access(store: LocalObjectStore) -> None:
    store.put_bytes(
        BUCKET, "k", b"old", WriteOptions(content_type="text/plain", checksum_algorithms=("SHA1",))
    )
    (store.root / BUCKET / "k").write_bytes(b"new and longer")
    assert store.list_objects(BUCKET).objects[0].size == 3  # listing trusts the index until the key is read
    info = store.head_object(BUCKET, "k")
    assert (info.size, info.etag) == (14, hashlib.md5(b"new and longer").hexdigest())
    assert info.content_type == "text/plain"
    assert info.checksums == {"SHA1": base64.b64encode(hashlib.sha1(b"new and longer").digest()).decode()}
    assert store.list_objects(BUCKET).objects[0].etag == info.etag
    assert store.get_bytes(BUCKET, "k") == b"new and longer"


def test_same_size_rewrite_is_noticed_by_mtime(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "k", b"aaaa")
    path = store.root / BUCKET / "k"
    path.write_bytes(b"bbbb")
    age(path, 5)
    assert store.head_object(BUCKET, "k").etag == hashlib.md5(b"bbbb").hexdigest()


def test_file_without_row_is_adopted_on_access(store: LocalObjectStore) -> None:
    (store.root / BUCKET / "dropped").mkdir()
    (store.root / BUCKET / "dropped" / "file.txt").write_bytes(b"by hand")
    info = store.head_object(BUCKET, "dropped/file.txt")
    assert (info.size, info.content_type) == (7, "binary/octet-stream")
    assert [o.key for o in store.list_objects(BUCKET).objects] == ["dropped/file.txt"]


def test_row_without_file_is_dropped_on_access(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "gone", b"x")
    (store.root / BUCKET / "gone").unlink()
    with pytest.raises(NoSuchKey):
        store.open_reader(BUCKET, "gone")
    assert store.list_objects(BUCKET).objects == []


def test_crash_between_rename_and_commit_is_finished_at_open(
    store: LocalObjectStore, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_bytes(BUCKET, "k", b"old")
    monkeypatch.setattr(records, "put_object", crash)
    with pytest.raises(Crash):
        store.put_bytes(BUCKET, "k", b"new body", WriteOptions(content_type="text/csv", metadata={"a": "b"}))
    with pytest.raises(Crash):
        store.put_bytes(BUCKET, "fresh", b"never indexed")
    monkeypatch.undo()
    assert (store.root / BUCKET / "k").read_bytes() == b"new body"  # renamed, but the row is the old one
    store.close()
    reopened = LocalObjectStore(store_root)
    listed = {o.key: o for o in reopened.list_objects(BUCKET).objects}
    assert (
        listed["k"].size == 8
        and listed["k"].content_type == "text/csv"
        and listed["k"].metadata == {"a": "b"}
    )
    assert listed["fresh"].etag == hashlib.md5(b"never indexed").hexdigest()
    assert pending_intents(reopened) == []
    reopened.close()


def test_crash_in_the_middle_of_a_delete_is_finished_at_open(
    store: LocalObjectStore, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_bytes(BUCKET, "k", b"doomed")
    monkeypatch.setattr(records, "delete_object", crash)
    with pytest.raises(Crash):
        store.delete_object(BUCKET, "k")
    monkeypatch.undo()
    assert not (store.root / BUCKET / "k").exists()
    store.close()
    reopened = LocalObjectStore(store_root)
    assert reopened.list_objects(BUCKET).objects == []
    reopened.close()


def test_a_crash_before_the_rename_changes_nothing(
    store: LocalObjectStore, store_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.put_bytes(BUCKET, "k", b"old", WriteOptions(content_type="text/plain"))
    monkeypatch.setattr(TempFile, "publish", crash)
    with pytest.raises(Crash):
        store.put_bytes(BUCKET, "k", b"new")
    monkeypatch.undo()
    store.close()
    reopened = LocalObjectStore(store_root)
    assert reopened.get_bytes(BUCKET, "k") == b"old"
    assert reopened.head_object(BUCKET, "k").content_type == "text/plain"
    reopened.close()


def test_abandoned_temp_files_are_removed_at_open(store: LocalObjectStore, store_root: Path) -> None:
    temp_dir = store_root / ".opensage-tmp"
    abandoned = temp_dir / "put-abandoned.tmp"
    abandoned.write_bytes(b"half a body")
    age(abandoned, 3600)
    live = TempFile(temp_dir, "put-")  # a writer in another process, still holding its lock
    live.write(b"streaming")
    age(live.path, 3600)
    recent = temp_dir / "put-just-created.tmp"
    recent.write_bytes(b"")
    reopened = LocalObjectStore(store_root)
    assert sorted(p.name for p in temp_dir.iterdir()) == sorted([live.path.name, recent.name])
    live.discard()
    reopened.close()


def test_upload_folders_of_finished_uploads_are_removed_at_open(
    store: LocalObjectStore, store_root: Path
) -> None:
    upload = store.create_multipart_upload(BUCKET, "k")
    writer = store.open_part_writer(BUCKET, "k", upload, 1)
    writer.write(b"part")
    writer.commit()
    orphan = store_root / ".opensage-uploads" / ("x" * 43)
    orphan.mkdir()
    (orphan / "00001").write_bytes(b"left by a crash")
    age(orphan, 3600)
    reopened = LocalObjectStore(store_root)
    assert [p.name for p in (store_root / ".opensage-uploads").iterdir()] == [upload]
    assert [p.part_number for p in reopened.list_parts(BUCKET, "k", upload)] == [1]
    reopened.close()


def test_rescan_indexes_files_added_and_removed_by_hand(store: LocalObjectStore) -> None:
    store.put_bytes(BUCKET, "indexed", b"1")
    (store.root / BUCKET / "indexed").unlink()
    (store.root / BUCKET / "copied-in.csv").write_bytes(b"a,b\n")
    (store.root / BUCKET / "50%off").write_bytes(b"not a name the store writes")
    assert store.rescan() == 2
    assert [o.key for o in store.list_objects(BUCKET).objects] == ["copied-in.csv"]
    assert (store.root / BUCKET / "50%off").exists()


def _hammer(root: str, worker: int) -> None:
    store = LocalObjectStore(Path(root))
    for round_ in range(15):
        store.put_bytes(BUCKET, "shared", f"worker {worker} round {round_} ".encode() * (worker + 1))
        store.put_bytes(BUCKET, f"own/{worker}/{round_}", bytes([worker]) * round_)
        if round_ % 5 == 4:
            store.delete_object(BUCKET, f"own/{worker}/{round_ - 1}")
    store.close()


def test_several_processes_writing_at_once_keep_rows_and_files_consistent(store: LocalObjectStore) -> None:
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_hammer, args=(str(store.root), n)) for n in range(4)]
    for process in workers:
        process.start()
    for process in workers:
        process.join(60)
    assert [process.exitcode for process in workers] == [0, 0, 0, 0]
    listed = list(store.iter_objects(BUCKET))
    assert len(listed) == 1 + 4 * (15 - 3)
    for info in listed:
        data = (store.root / BUCKET / info.key).read_bytes()
        assert (len(data), hashlib.md5(data).hexdigest()) == (info.size, info.etag)
    assert pending_intents(store) == []
