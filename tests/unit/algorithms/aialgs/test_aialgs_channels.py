"""Reading a channel as mini-batches: CSV (label_size) and RecordIO-protobuf, File and Pipe mode."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from opensage.algorithms.aialgs.channels import read_batches
from opensage.algorithms.base import ChannelInput
from opensage.errors import AlgorithmClientError
from opensage.formats.recordio import write_dense, write_sparse
from opensage.runtime.pipes import PipeFeeder


def csv_channel(tmp_path: Path, files: dict[str, str], content_type: str = "text/csv") -> ChannelInput:
    folder = tmp_path / "train"
    folder.mkdir()
    for name, text in files.items():
        (folder / name).write_text(text)
    return ChannelInput("train", folder, content_type)


def test_csv_label_first_in_batches_that_never_span_files(tmp_path: Path) -> None:
    channel = csv_channel(tmp_path, {"a.csv": "1,2,3\n0,4,5\n1,6,7\n", "b.csv": "0,8,9\n"})
    batches = list(read_batches(channel, 2))
    assert [b.n_rows for b in batches] == [2, 1, 1]
    np.testing.assert_array_equal(np.vstack([b.dense() for b in batches]), [[2, 3], [4, 5], [6, 7], [8, 9]])
    np.testing.assert_array_equal(np.concatenate([b.labels for b in batches]), [1, 0, 1, 0])  # type: ignore[misc]
    assert batches[0].features.dtype == np.float32


def test_csv_label_size_zero_is_unsupervised_and_k_takes_k_columns(tmp_path: Path) -> None:
    channel = csv_channel(tmp_path, {"a.csv": "1,2,3\n4,5,6\n"}, "text/csv;label_size=0")
    (batch,) = read_batches(channel)
    assert batch.labels is None and batch.n_columns == 3
    two = ChannelInput("train", channel.path, "text/csv; label_size=2")
    (batch,) = read_batches(two)
    assert batch.labels is not None and batch.labels.shape == (2, 2) and batch.n_columns == 1


def test_csv_errors_name_the_file_and_line(tmp_path: Path) -> None:
    channel = csv_channel(tmp_path, {"a.csv": "1,2\n3,x\n"})
    with pytest.raises(AlgorithmClientError, match=r"train/a.csv .*line 2 column 2"):
        list(read_batches(channel))


def test_feature_dim_mismatch_is_named(tmp_path: Path) -> None:
    channel = csv_channel(tmp_path, {"a.csv": "1,2,3\n"})
    with pytest.raises(AlgorithmClientError, match="rows have 2 features but feature_dim is 5"):
        list(read_batches(channel, feature_dim=5))


def test_unsupported_content_type_is_named(tmp_path: Path) -> None:
    channel = csv_channel(tmp_path, {"a.txt": "1 1:2\n"}, "text/libsvm")
    with pytest.raises(AlgorithmClientError, match="text/libsvm"):
        list(read_batches(channel))


def test_recordio_dense_and_sparse_with_labels(tmp_path: Path) -> None:
    folder = tmp_path / "train"
    folder.mkdir()
    with (folder / "dense.pbr").open("wb") as out:
        write_dense(out, np.arange(6, dtype=np.float64).reshape(3, 2), np.array([0.0, 1.0, 0.0]))
    with (folder / "sparse.pbr").open("wb") as out:
        write_sparse(
            out, sparse.csr_matrix(np.array([[0, 7.0], [0, 0]], dtype=np.float32)), np.array([1.0, 1.0])
        )
    channel = ChannelInput("train", folder, "application/x-recordio-protobuf")
    batches = list(read_batches(channel, 10, feature_dim=2))
    assert not sparse.issparse(batches[0].features) and sparse.issparse(batches[1].features)
    np.testing.assert_array_equal(batches[1].dense(), [[0, 7], [0, 0]])
    np.testing.assert_array_equal(np.concatenate([b.labels for b in batches]), [0, 1, 0, 1, 1])  # type: ignore[misc]


def test_pipe_mode_reads_each_epoch_from_its_fifo(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    buffer = io.BytesIO()
    write_dense(buffer, np.ones((3, 4), dtype=np.float32))
    (sources / "part-0.pbr").write_bytes(buffer.getvalue())
    (sources / "part-1.pbr").write_bytes(buffer.getvalue())
    data = tmp_path / "data"
    data.mkdir()
    feeder = PipeFeeder("train", sorted(sources.iterdir()), data)
    feeder.start()
    channel = ChannelInput("train", data / "train", "application/x-recordio-protobuf", input_mode="Pipe")
    assert not channel.path.exists()  # Pipe mode has no channel folder, only FIFOs
    for epoch in range(3):
        rows = sum(batch.n_rows for batch in read_batches(channel, 4, epoch=epoch))
        assert rows == 6
    assert feeder.epochs_fed >= 2


def test_a_missing_fifo_is_a_client_error(tmp_path: Path) -> None:
    channel = ChannelInput("train", tmp_path / "train", "text/csv", input_mode="Pipe")
    with pytest.raises(AlgorithmClientError, match="train_0 does not exist"):
        list(read_batches(channel))


def test_a_reader_closing_early_ends_the_epoch(tmp_path: Path) -> None:
    sources = tmp_path / "src.csv"
    sources.write_text("1,2\n" * 200_000)
    feeder = PipeFeeder("train", [sources], tmp_path)
    feeder.start()
    channel = ChannelInput("train", tmp_path / "train", "text/csv", input_mode="Pipe")
    first = next(iter(read_batches(channel, 10)))
    assert first.n_rows == 10
    # The next epoch's FIFO appears although epoch 0 was not read to the end.
    rows = sum(batch.n_rows for batch in read_batches(channel, 50_000, epoch=1))
    assert rows == 200_000


def test_without_a_content_type_recordio_is_recognised_and_csv_stays_csv(tmp_path: Path) -> None:
    """The SageMaker SDK's record_set uploads RecordIO and names no ContentType."""
    folder = tmp_path / "train"
    folder.mkdir()
    with (folder / "a.pbr").open("wb") as out:
        write_dense(out, np.arange(4, dtype=np.float32).reshape(2, 2), np.array([1.0, 0.0]))
    (folder / "b.csv").write_text("1,5,6\n")
    batches = list(read_batches(ChannelInput("train", folder, None), 10, feature_dim=2))
    np.testing.assert_array_equal(np.vstack([b.dense() for b in batches]), [[0, 1], [2, 3], [5, 6]])
    np.testing.assert_array_equal(np.concatenate([b.labels for b in batches]), [1, 0, 1])  # type: ignore[misc]


def test_without_a_content_type_pipe_mode_recordio_is_recognised(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    buffer = io.BytesIO()
    write_dense(buffer, np.ones((3, 4), dtype=np.float32))
    (sources / "part-0.pbr").write_bytes(buffer.getvalue())
    data = tmp_path / "data"
    data.mkdir()
    feeder = PipeFeeder("train", sorted(sources.iterdir()), data)
    feeder.start()
    channel = ChannelInput("train", data / "train", None, input_mode="Pipe")
    assert sum(batch.n_rows for batch in read_batches(channel, 2, feature_dim=4)) == 3


def test_without_a_content_type_an_algorithm_that_reads_no_csv_reads_recordio(tmp_path: Path) -> None:
    channel = csv_channel(tmp_path, {"a.csv": "1,2,3\n"}, None)  # type: ignore[arg-type]
    with pytest.raises(AlgorithmClientError, match=r"RecordIO|magic|record"):
        list(read_batches(channel, content_types=("application/x-recordio-protobuf",)))
