"""A training channel as a stream of mini-batches, in File or Pipe mode, from CSV or RecordIO-protobuf.

File mode reads the channel's files in order (``ChannelInput.files``), Pipe mode the FIFO
``<channel>_<epoch>`` beside the channel folder, where the job host writes the channel's
files one after another for each epoch. A batch never holds rows of two files; in Pipe mode
the stream is one. Nothing reads a whole file at once: one batch is in memory at a time.

CSV rows hold the label first unless the content type says ``label_size=0`` (unsupervised
data); ``label_size=k`` takes k label columns. RecordIO-protobuf records hold their features
in ``features["values"]`` (dense or sparse) and their label in ``label["values"]``.
Imports numpy: algorithms import this module inside ``fit``, never at import time.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np
from scipy import sparse

from opensage.algorithms.base import ChannelInput
from opensage.errors import AlgorithmClientError
from opensage.formats import content_type as ct
from opensage.formats.errors import PayloadError

CONTENT_TYPES = (ct.CSV, ct.RECORDIO_PROTOBUF)
DEFAULT_BATCH_SIZE = 1000


@dataclass(frozen=True)
class Batch:
    """Rows of a channel: ``features`` (rows, feature_dim) float32, dense or CSR; ``labels`` or None.

    ``labels`` is (rows,) for one label per row and (rows, k) for ``label_size=k > 1``.
    """

    features: np.ndarray | sparse.csr_matrix
    labels: np.ndarray | None
    source: str

    @property
    def n_rows(self) -> int:
        return int(self.features.shape[0])

    @property
    def n_columns(self) -> int:
        return int(self.features.shape[1])

    def dense(self) -> np.ndarray:
        """The features as a dense array (a sparse batch is expanded)."""
        if isinstance(self.features, np.ndarray):
            return self.features
        return np.asarray(self.features.toarray())


@dataclass(frozen=True)
class ChannelFormat:
    """How a channel's bytes are read: its media type and, for CSV, how many label columns lead."""

    media_type: str
    label_size: int


def channel_format(
    channel: ChannelInput, *, content_types: tuple[str, ...] = CONTENT_TYPES, default_label_size: int = 1
) -> ChannelFormat:
    """The channel's content type, checked against what the algorithm reads.

    A channel without a ContentType (the SageMaker SDK's ``record_set`` sends none) is
    RecordIO-protobuf for an algorithm that reads no CSV; otherwise ``read_batches`` looks at
    each file's first bytes (``sniffed``).
    """
    if channel.content_type is None and ct.CSV not in content_types:
        return ChannelFormat(ct.RECORDIO_PROTOBUF, default_label_size)
    parsed = ct.parse_content_type(channel.content_type or ct.CSV)
    if parsed.media_type not in content_types:
        raise AlgorithmClientError(
            f"Channel '{channel.name}': content type {channel.content_type!r} is not supported; "
            f"use {' or '.join(content_types)}"
        )
    text = parsed.parameters.get("label_size", str(default_label_size))
    if not text.isdigit():
        raise AlgorithmClientError(
            f"Channel '{channel.name}': label_size={text} in the content type must be a non-negative integer"
        )
    return ChannelFormat(parsed.media_type, int(text))


def read_batches(
    channel: ChannelInput,
    batch_size: int = DEFAULT_BATCH_SIZE,
    *,
    epoch: int = 0,
    feature_dim: int | None = None,
    content_types: tuple[str, ...] = CONTENT_TYPES,
    default_label_size: int = 1,
) -> Iterator[Batch]:
    """Every row of the channel, ``batch_size`` at a time; one pass (an epoch) per call.

    With ``feature_dim`` every batch must have exactly that many feature columns (a sparse
    batch's width is its records' shape); the error names the file and what was found.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    form = channel_format(channel, content_types=content_types, default_label_size=default_label_size)
    sniff = channel.content_type is None and ct.RECORDIO_PROTOBUF in content_types
    for stream, source in _streams(channel, epoch):
        with stream:
            stream_form = sniffed(stream, form) if sniff else form
            for batch in _stream_batches(stream, source, stream_form, batch_size):
                if feature_dim is not None and batch.n_columns != feature_dim:
                    raise AlgorithmClientError(
                        f"{source}: rows have {batch.n_columns} features but feature_dim is {feature_dim}"
                    )
                yield batch


def sniffed(stream: BinaryIO, form: ChannelFormat) -> ChannelFormat:
    """RecordIO-protobuf if the stream starts with a RecordIO record's magic number, else ``form``.

    For channels without a ContentType: the SageMaker SDK's ``record_set`` uploads RecordIO and
    names no type, while a CSV file cannot start with those four bytes (0x0a 0x23 0xd7 0xce).
    """
    from opensage.formats.recordio import MAGIC

    head = stream.peek(4)[:4] if isinstance(stream, io.BufferedReader) else b""
    if len(head) == 4 and int.from_bytes(head, "little") == MAGIC:
        return ChannelFormat(ct.RECORDIO_PROTOBUF, form.label_size)
    return form


def fifo_path(channel: ChannelInput, epoch: int) -> Path:
    """Where Pipe mode delivers epoch ``epoch`` of the channel: ``/opt/ml/input/data/<channel>_<epoch>``."""
    return channel.path.parent / f"{channel.name}_{epoch}"


def _streams(channel: ChannelInput, epoch: int) -> Iterator[tuple[BinaryIO, str]]:
    if channel.input_mode == "Pipe":
        path = fifo_path(channel, epoch)
        if not path.exists():
            raise AlgorithmClientError(f"Channel '{channel.name}': Pipe mode FIFO {path.name} does not exist")
        yield path.open("rb"), f"channel '{channel.name}' (Pipe, epoch {epoch})"
        return
    files = channel.files()
    if not files:
        raise AlgorithmClientError(f"Channel '{channel.name}' holds no files")
    for path in files:
        name = f"{channel.name}/{path.relative_to(channel.path).as_posix()}"
        try:
            stream = path.open("rb")
        except OSError as exc:
            raise AlgorithmClientError(f"Cannot read {name}: {exc.strerror}") from exc
        yield stream, name


def _stream_batches(stream: BinaryIO, source: str, form: ChannelFormat, batch_size: int) -> Iterator[Batch]:
    if form.media_type == ct.RECORDIO_PROTOBUF:
        from opensage.formats.recordio import iter_record_batches

        for records in iter_record_batches(stream, batch_size, source=source):
            if records.features.shape[0]:
                yield Batch(records.features, records.labels, source)
        return
    yield from _csv_batches(stream, source, form.label_size, batch_size)


def _csv_batches(stream: BinaryIO, source: str, label_size: int, batch_size: int) -> Iterator[Batch]:
    from opensage.formats.csv import detect_delimiter
    from opensage.formats.csv_payload import parse_csv_payload

    delimiter: str | None = None
    first_line = 1
    width: int | None = None
    lines = (line for line in stream if line.strip())
    while chunk := list(itertools.islice(lines, batch_size)):
        if delimiter is None:
            delimiter = detect_delimiter(chunk[0].decode("utf-8-sig", errors="replace"))
        try:
            table = parse_csv_payload(b"".join(_terminated(line) for line in chunk), delimiter=delimiter)
        except PayloadError as exc:
            # The payload parser counts lines from the chunk's first one.
            raise AlgorithmClientError(f"{source} (rows from data line {first_line} on): {exc}") from exc
        if width is None:
            width = table.shape[1]
        if table.shape[1] != width:
            raise AlgorithmClientError(
                f"{source}: rows from data line {first_line} on have {table.shape[1]} columns where the "
                f"first row has {width}; every row must have the same number of columns"
            )
        yield _split_labels(table, label_size, source)
        first_line += len(chunk)


def _terminated(line: bytes) -> bytes:
    return line if line.endswith(b"\n") else line + b"\n"


def _split_labels(table: np.ndarray, label_size: int, source: str) -> Batch:
    if table.shape[1] <= label_size:
        raise AlgorithmClientError(
            f"{source}: rows have {table.shape[1]} column(s), so no features after {label_size} label column(s); "
            "the label goes first, or set label_size=0 in the content type for data without labels"
        )
    if label_size == 0:
        return Batch(table, None, source)
    labels = table[:, 0] if label_size == 1 else table[:, :label_size]
    return Batch(np.ascontiguousarray(table[:, label_size:]), labels, source)
