"""Copy a channel's S3 data into a host's channel folder, as SageMaker's File input mode does.

S3Prefix channels take every object under the prefix; ManifestFile channels take the
objects a manifest lists. ShardedByS3Key gives each host every n-th object in key order;
FullyReplicated gives each host all of them. Gzip channels are decompressed on the way
(SageMaker applies CompressionType only to Pipe mode; doing it in File mode too is what a
user who set it expects).
"""

from __future__ import annotations

import gzip
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from opensage.errors import AlgorithmClientError, NoSuchBucket, NoSuchKey
from opensage.executor.jobspec import ChannelSpec
from opensage.naming import parse_s3_uri
from opensage.objects.base import ObjectStore
from opensage.runtime.archives import contained_path


@dataclass(frozen=True)
class StagedObject:
    bucket: str
    key: str
    # Where it goes, relative to the channel folder.
    relative_path: str


def _relative_to_prefix(key: str, prefix: str) -> str:
    if key == prefix:
        return PurePosixPath(key).name
    rest = key[len(prefix) :]
    if prefix and not prefix.endswith("/") and not rest.startswith("/"):
        # s3://b/data/tr matched data/train/x.csv: keep the path from the prefix's folder on.
        folder = prefix.rsplit("/", 1)[0] + "/" if "/" in prefix else ""
        return key[len(folder) :]
    return rest.lstrip("/")


def list_prefix(store: ObjectStore, channel: ChannelSpec) -> list[StagedObject]:
    uri = parse_s3_uri(channel.s3_uri)
    try:
        found = [
            StagedObject(uri.bucket, info.key, _relative_to_prefix(info.key, uri.key))
            for info in store.iter_objects(uri.bucket, uri.key)
            if not info.key.endswith("/")
        ]
    except NoSuchBucket as exc:
        raise AlgorithmClientError(
            f'Data download failed: the bucket "{uri.bucket}" of channel "{channel.name}" does not exist'
        ) from exc
    return found


def list_manifest(store: ObjectStore, channel: ChannelSpec) -> list[StagedObject]:
    uri = parse_s3_uri(channel.s3_uri)
    try:
        manifest = json.loads(store.get_bytes(uri.bucket, uri.key))
    except (NoSuchBucket, NoSuchKey) as exc:
        raise AlgorithmClientError(
            f'Data download failed: the manifest "{channel.s3_uri}" does not exist'
        ) from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AlgorithmClientError(f'The manifest "{channel.s3_uri}" is not valid JSON') from exc
    if (
        not isinstance(manifest, list)
        or not manifest
        or not isinstance(manifest[0], dict)
        or not isinstance(manifest[0].get("prefix"), str)
        or not all(isinstance(entry, str) for entry in manifest[1:])
    ):
        raise AlgorithmClientError(
            f'The manifest "{channel.s3_uri}" must be a JSON array: [{{"prefix": "s3://bucket/prefix/"}}, '
            '"relative/key", ...]'
        )
    base = parse_s3_uri(manifest[0]["prefix"], "manifest prefix")
    return [StagedObject(base.bucket, base.key + entry, entry) for entry in manifest[1:]]


def shard(
    objects: list[StagedObject], distribution: str, host_index: int, host_count: int
) -> list[StagedObject]:
    if distribution != "ShardedByS3Key" or host_count == 1:
        return objects
    ordered = sorted(objects, key=lambda item: (item.bucket, item.key))
    return ordered[host_index::host_count]


def _safe_target(folder: Path, relative_path: str) -> Path:
    target = contained_path(folder, relative_path)
    if target is None:
        raise AlgorithmClientError(
            f'The input object "{relative_path}" has a path that leaves its channel folder'
        )
    return target


def download(
    store: ObjectStore,
    item: StagedObject,
    folder: Path,
    compression: str,
) -> Path:
    target = _safe_target(folder, item.relative_path)
    try:
        if compression != "Gzip":
            store.download_file(item.bucket, item.key, target)
            return target
        if target.suffix == ".gz":
            target = target.with_suffix("")
        target.parent.mkdir(parents=True, exist_ok=True)
        _, stream = store.open_reader(item.bucket, item.key)
        with stream, gzip.GzipFile(fileobj=stream) as unpacked, target.open("wb") as out:
            shutil.copyfileobj(unpacked, out, 1 << 20)
    except NoSuchKey as exc:
        raise AlgorithmClientError(
            f"Data download failed: s3://{item.bucket}/{item.key} does not exist"
        ) from exc
    except (OSError, EOFError) as exc:
        if isinstance(exc, gzip.BadGzipFile | EOFError):
            raise AlgorithmClientError(
                f"Channel data s3://{item.bucket}/{item.key} is not valid gzip "
                f"(CompressionType is Gzip): {exc}"
            ) from exc
        raise
    return target


def stage_channel(
    store: ObjectStore,
    channel: ChannelSpec,
    folder: Path,
    host_index: int,
    host_count: int,
    should_continue: Callable[[], bool] = lambda: True,
) -> int:
    """Fill ``folder`` with this host's share of ``channel``; returns the number of files."""
    listed = (
        list_manifest(store, channel)
        if channel.s3_data_type == "ManifestFile"
        else list_prefix(store, channel)
    )
    if not listed:
        uri = parse_s3_uri(channel.s3_uri)
        raise AlgorithmClientError(
            f'No S3 objects found under S3 URL "{channel.s3_uri}" given in input data source. '
            f'Please ensure that the bucket "{uri.bucket}" exists and that objects exist '
            "under that S3 prefix."
        )
    folder.mkdir(parents=True, exist_ok=True)
    mine = shard(listed, channel.distribution, host_index, host_count)
    for item in mine:
        if not should_continue():
            break
        download(store, item, folder, channel.compression)
    return len(mine)


def require_output_bucket(store: ObjectStore, output_uri: str) -> None:
    """Fail a job at its start, not after its work, when its S3OutputPath's bucket is missing."""
    output = parse_s3_uri(output_uri)
    try:
        store.head_bucket(output.bucket)
    except NoSuchBucket as exc:
        raise AlgorithmClientError(
            f'The output bucket "{output.bucket}" of S3OutputPath does not exist; create it first'
        ) from exc
