"""The objects a transform job reads, where each one's output goes, and reading them.

S3Prefix inputs are every object under the prefix; ManifestFile inputs the objects a
manifest lists (the same listing training channels use). Each object's output is
``<S3OutputPath>/<path relative to the input prefix>.out``, as SageMaker names it.
Gzip inputs are decompressed as they are read.
"""

from __future__ import annotations

import gzip
from contextlib import ExitStack
from dataclasses import dataclass

from opensage.errors import AlgorithmClientError, NoSuchBucket, NoSuchKey
from opensage.executor.jobspec import ChannelSpec
from opensage.executor.staging import list_manifest, list_prefix
from opensage.naming import S3Uri, parse_s3_uri
from opensage.objects.base import ObjectStore
from opensage.runtime.transform.records import Readable


@dataclass(frozen=True)
class InputObject:
    bucket: str
    key: str
    relative_path: str

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def output(self, output_path: str) -> S3Uri:
        return parse_s3_uri(output_path).join(self.relative_path + ".out")


def list_inputs(store: ObjectStore, s3_data_type: str, s3_uri: str) -> list[InputObject]:
    """Every input object, in key order; a ClientError when there is none."""
    channel = ChannelSpec(name="TransformInput", s3_data_type=s3_data_type, s3_uri=s3_uri)
    location = parse_s3_uri(s3_uri)
    if s3_data_type == "ManifestFile":
        listed = list_manifest(store, channel)
    else:
        try:
            store.head_bucket(location.bucket)
        except NoSuchBucket:
            listed = []
        else:
            listed = list_prefix(store, channel)
    if not listed:
        raise AlgorithmClientError(
            f'No S3 objects found under S3 URL "{s3_uri}" given in input data source. Please ensure that '
            f'the bucket "{location.bucket}" exists and that objects exist under that S3 prefix.'
        )
    return [InputObject(item.bucket, item.key, item.relative_path) for item in listed]


class InputReader:
    """An input object's bytes, decompressed when CompressionType is Gzip; use as a context manager."""

    def __init__(self, store: ObjectStore, item: InputObject, compression: str) -> None:
        self._stack = ExitStack()
        try:
            _, raw = store.open_reader(item.bucket, item.key)
        except (NoSuchBucket, NoSuchKey) as exc:
            raise AlgorithmClientError(f"The input object {item.uri} does not exist") from exc
        self._uri = item.uri
        self.stream: Readable = self._stack.enter_context(raw)
        if compression == "Gzip":
            self.stream = self._stack.enter_context(gzip.GzipFile(fileobj=raw, mode="rb"))

    def __enter__(self) -> InputReader:
        return self

    def __exit__(self, exc_type: object, exc: BaseException | None, tb: object) -> None:
        self._stack.close()
        if isinstance(exc, gzip.BadGzipFile | EOFError):
            raise AlgorithmClientError(
                f"{self._uri} is not valid gzip (CompressionType is Gzip): {exc}"
            ) from exc
