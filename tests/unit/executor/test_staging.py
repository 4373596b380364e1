"""Channel staging: which objects a host gets, where they land, and the errors users see."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from opensage.errors import AlgorithmClientError
from opensage.executor.jobspec import ChannelSpec
from opensage.executor.packing import download_tree
from opensage.executor.staging import shard, stage_channel
from opensage.naming import parse_s3_uri
from opensage.objects import open_object_store
from opensage.objects.base import ObjectStore


@pytest.fixture()
def store(tmp_path: Path) -> ObjectStore:
    opened = open_object_store((tmp_path / "objects").as_uri())
    opened.create_bucket("data", "us-east-1")
    for key in (
        "train/a.csv",
        "train/b.csv",
        "train/sub/c.csv",
        "train/folder/",
        "trainer.csv",
        "other/x.csv",
    ):
        opened.put_bytes("data", key, key.encode())
    return opened


def channel(uri: str, **extra: str) -> ChannelSpec:
    return ChannelSpec(name="train", s3_data_type=extra.pop("s3_data_type", "S3Prefix"), s3_uri=uri, **extra)


def files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_folder_prefix_lands_relative_to_the_prefix(store: ObjectStore, tmp_path: Path) -> None:
    target = tmp_path / "train"
    assert stage_channel(store, channel("s3://data/train/"), target, 0, 1) == 3
    assert files(target) == ["a.csv", "b.csv", "sub/c.csv"]
    assert (target / "sub/c.csv").read_bytes() == b"train/sub/c.csv"


def test_a_bare_prefix_keeps_paths_from_its_folder(store: ObjectStore, tmp_path: Path) -> None:
    target = tmp_path / "train"
    stage_channel(store, channel("s3://data/train"), target, 0, 1)
    assert files(target) == ["a.csv", "b.csv", "sub/c.csv", "trainer.csv"]


def test_a_single_object(store: ObjectStore, tmp_path: Path) -> None:
    target = tmp_path / "train"
    stage_channel(store, channel("s3://data/other/x.csv"), target, 0, 1)
    assert files(target) == ["x.csv"]


def test_sharded_by_key_splits_objects_across_hosts(store: ObjectStore, tmp_path: Path) -> None:
    sharded = channel("s3://data/train/", distribution="ShardedByS3Key")
    first, second = tmp_path / "h1", tmp_path / "h2"
    stage_channel(store, sharded, first, 0, 2)
    stage_channel(store, sharded, second, 1, 2)
    assert files(first) == ["a.csv", "sub/c.csv"] and files(second) == ["b.csv"]
    replicated = channel("s3://data/train/")
    stage_channel(store, replicated, tmp_path / "r2", 1, 2)
    assert files(tmp_path / "r2") == ["a.csv", "b.csv", "sub/c.csv"]


def test_shard_is_every_nth_key_in_order() -> None:
    from opensage.executor.staging import StagedObject

    items = [StagedObject("b", f"k{i}", f"k{i}") for i in (3, 1, 2, 0)]
    assert [i.key for i in shard(items, "ShardedByS3Key", 1, 2)] == ["k1", "k3"]


def test_manifest_files(store: ObjectStore, tmp_path: Path) -> None:
    manifest = [{"prefix": "s3://data/train/"}, "a.csv", "sub/c.csv"]
    store.put_bytes("data", "manifests/m.json", json.dumps(manifest).encode())
    target = tmp_path / "train"
    stage_channel(store, channel("s3://data/manifests/m.json", s3_data_type="ManifestFile"), target, 0, 1)
    assert files(target) == ["a.csv", "sub/c.csv"]


@pytest.mark.parametrize(
    "body", [b"not json", b"{}", b"[]", b'[{"prefix": 3}]', b'[{"prefix": "s3://d/"}, 7]']
)
def test_bad_manifests_are_client_errors(store: ObjectStore, tmp_path: Path, body: bytes) -> None:
    store.put_bytes("data", "bad.json", body)
    with pytest.raises(AlgorithmClientError, match="manifest"):
        stage_channel(store, channel("s3://data/bad.json", s3_data_type="ManifestFile"), tmp_path / "t", 0, 1)


def test_gzip_channels_are_decompressed(store: ObjectStore, tmp_path: Path) -> None:
    store.put_bytes("data", "zipped/part.csv.gz", gzip.compress(b"1,2,3\n"))
    target = tmp_path / "train"
    stage_channel(store, channel("s3://data/zipped/", compression="Gzip"), target, 0, 1)
    assert (target / "part.csv").read_bytes() == b"1,2,3\n"
    store.put_bytes("data", "notzipped/part.csv.gz", b"plain")
    with pytest.raises(AlgorithmClientError, match="not valid gzip"):
        stage_channel(store, channel("s3://data/notzipped/", compression="Gzip"), tmp_path / "t2", 0, 1)


def test_missing_data_says_where_it_looked(store: ObjectStore, tmp_path: Path) -> None:
    with pytest.raises(AlgorithmClientError, match='No S3 objects found under S3 URL "s3://data/nothing/"'):
        stage_channel(store, channel("s3://data/nothing/"), tmp_path / "t", 0, 1)
    with pytest.raises(AlgorithmClientError, match='bucket "nobucket"'):
        stage_channel(store, channel("s3://nobucket/x/"), tmp_path / "t", 0, 1)
    with pytest.raises(AlgorithmClientError, match="does not exist"):
        stage_channel(
            store, channel("s3://data/none.json", s3_data_type="ManifestFile"), tmp_path / "t", 0, 1
        )


def test_keys_cannot_escape_the_channel_folder(store: ObjectStore, tmp_path: Path) -> None:
    manifest = [{"prefix": "s3://data/train/"}, "../../outside.csv"]
    store.put_bytes("data", "evil.json", json.dumps(manifest).encode())
    with pytest.raises(AlgorithmClientError, match="leaves its channel folder"):
        stage_channel(
            store, channel("s3://data/evil.json", s3_data_type="ManifestFile"), tmp_path / "t", 0, 1
        )
    assert not (tmp_path / "outside.csv").exists()


@pytest.mark.parametrize("key", ["ckpt//outside.txt", "ckpt/../outside.txt", "ckpt/a/../../outside.txt"])
def test_checkpoint_restore_keeps_hostile_keys_inside_the_folder(
    store: ObjectStore, tmp_path: Path, key: str
) -> None:
    # "ckpt//outside.txt" once became folder / "/outside.txt": the root of the file system.
    store.put_bytes("data", "ckpt/model.bin", b"m")
    store.put_bytes("data", key, b"evil")
    folder = tmp_path / "checkpoints"
    assert download_tree(store, parse_s3_uri("s3://data/ckpt"), folder) == 1
    assert files(folder) == ["model.bin"]
    assert not (tmp_path / "outside.txt").exists()
