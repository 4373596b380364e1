"""Pack and upload what a job leaves behind: model.tar.gz, output.tar.gz and checkpoints."""

from __future__ import annotations

import tarfile
from collections.abc import Iterable
from pathlib import Path

from opensage.naming import S3Uri
from opensage.objects.base import ObjectStore, WriteOptions
from opensage.runtime.archives import contained_path

# gzip level 6 packs models nearly as small as 9 in a fraction of the time.
_COMPRESS_LEVEL = 6


def _files_under(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def merged_files(folders: Iterable[Path]) -> dict[str, Path]:
    """Relative name -> file across several hosts' folders; the first host (algo-1) wins a clash."""
    merged: dict[str, Path] = {}
    for folder in folders:
        for path in _files_under(folder):
            merged.setdefault(path.relative_to(folder).as_posix(), path)
    return merged


def pack(files: dict[str, Path], archive: Path) -> None:
    with tarfile.open(archive, "w:gz", compresslevel=_COMPRESS_LEVEL) as tar:
        for name in sorted(files):
            tar.add(files[name], arcname=name, recursive=False)


def encrypted_under(kms_key_arn: str | None, content_type: str = "binary/octet-stream") -> WriteOptions:
    """Write options for a job output: SSE-KMS under the job's KmsKeyId, else the bucket's default."""
    if kms_key_arn is None:
        return WriteOptions(content_type=content_type)
    return WriteOptions(content_type=content_type, sse="aws:kms", sse_kms_key_id=kms_key_arn)


def upload_archive(
    store: ObjectStore, files: dict[str, Path], scratch: Path, target: S3Uri, kms_key_arn: str | None = None
) -> str:
    archive = scratch / Path(target.key).name
    pack(files, archive)
    store.put_file(target.bucket, target.key, archive, encrypted_under(kms_key_arn, "application/x-tar"))
    archive.unlink()
    return str(target)


def upload_tree(
    store: ObjectStore, files: dict[str, Path], target: S3Uri, kms_key_arn: str | None = None
) -> str:
    """Upload files one by one under the ``target`` prefix (OutputDataConfig CompressionType NONE)."""
    for name, path in sorted(files.items()):
        if path.is_file():
            store.put_file(target.bucket, target.join(name).key, path, encrypted_under(kms_key_arn))
    return str(target) + "/"


def download_tree(store: ObjectStore, source: S3Uri, folder: Path) -> int:
    """Copy every object under ``source`` into ``folder`` (checkpoint restore); returns the count."""
    prefix = source.key.rstrip("/") + "/" if source.key.strip("/") else ""
    count = 0
    for info in store.iter_objects(source.bucket, prefix):
        # A key such as "ckpt//etc/x" or "ckpt/../x" must not become a file outside the folder.
        target = contained_path(folder, info.key[len(prefix) :])
        if target is None or info.key.endswith("/"):
            continue
        store.download_file(source.bucket, info.key, target)
        count += 1
    return count
