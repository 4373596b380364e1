"""Processing outputs: what goes up, when, and where, for EndOfJob and Continuous outputs."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from opensage.executor.processing.layout import InstanceFolder
from opensage.executor.processing.outputs import CONTINUOUS, END_OF_JOB, OutputUploader
from opensage.executor.processing.spec import OutputRun
from opensage.objects import open_object_store
from opensage.objects.base import ObjectStore


@pytest.fixture()
def store(tmp_path: Path) -> ObjectStore:
    opened = open_object_store((tmp_path / "objects").as_uri())
    opened.create_bucket("out", "us-east-1")
    return opened


@pytest.fixture()
def folders(tmp_path: Path) -> list[InstanceFolder]:
    return [InstanceFolder(host, tmp_path / "job" / host) for host in ("algo-1", "algo-2")]


OUTPUTS = [
    OutputRun("train", "s3://out/split/train", "/opt/ml/processing/train", END_OF_JOB),
    OutputRun("progress", "s3://out/progress", "/opt/ml/processing/progress", CONTINUOUS),
    # The application uploads this one itself: opensage leaves it alone.
    OutputRun("managed", "s3://out/managed", "/opt/ml/processing/managed", END_OF_JOB, app_managed=True),
]


def write(folder: InstanceFolder, container_path: str, text: str) -> Path:
    path = folder.local(container_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def keys(store: ObjectStore) -> list[str]:
    return [info.key for info in store.iter_objects("out")]


def uploader(store: ObjectStore, folders: list[InstanceFolder], said: list[str]) -> OutputUploader:
    return OutputUploader(store, OUTPUTS, folders, lambda host, message: said.append(f"{host}: {message}"))


def test_end_of_job_uploads_every_file_with_relative_paths_kept(
    store: ObjectStore, folders: list[InstanceFolder]
) -> None:
    write(folders[0], "/opt/ml/processing/train/part-0.csv", "a")
    write(folders[0], "/opt/ml/processing/train/nested/deeper/part-1.csv", "b")
    write(folders[0], "/opt/ml/processing/managed/kept-local.csv", "c")
    sent = uploader(store, folders, []).upload({END_OF_JOB, CONTINUOUS})
    assert sent == 2
    assert keys(store) == ["split/train/nested/deeper/part-1.csv", "split/train/part-0.csv"]
    assert store.get_bytes("out", "split/train/nested/deeper/part-1.csv") == b"b"


def test_every_instance_uploads_to_the_same_prefix_and_the_later_one_wins_a_clash(
    store: ObjectStore, folders: list[InstanceFolder]
) -> None:
    write(folders[0], "/opt/ml/processing/train/algo-1.csv", "1")
    write(folders[1], "/opt/ml/processing/train/algo-2.csv", "2")
    write(folders[0], "/opt/ml/processing/train/same.csv", "from algo-1")
    write(folders[1], "/opt/ml/processing/train/same.csv", "from algo-2")
    uploader(store, folders, []).upload({END_OF_JOB})
    assert keys(store) == ["split/train/algo-1.csv", "split/train/algo-2.csv", "split/train/same.csv"]
    assert store.get_bytes("out", "split/train/same.csv") == b"from algo-2"


def test_continuous_outputs_go_up_once_settled_and_again_when_changed(
    store: ObjectStore, folders: list[InstanceFolder]
) -> None:
    outputs = uploader(store, folders, [])
    log = write(folders[1], "/opt/ml/processing/progress/epoch.log", "epoch 1\n")
    write(folders[0], "/opt/ml/processing/train/part-0.csv", "not yet")
    # First look: the file is new, so it may still be being written.
    assert outputs.upload({CONTINUOUS}, settled_only=True) == 0
    assert outputs.upload({CONTINUOUS}, settled_only=True) == 1
    assert keys(store) == ["progress/epoch.log"]
    # Unchanged since it went up: nothing more to send.
    assert outputs.upload({CONTINUOUS}, settled_only=True) == 0
    log.write_text("epoch 1\nepoch 2\n")
    assert outputs.upload({CONTINUOUS}, settled_only=True) == 0
    assert outputs.upload({CONTINUOUS}, settled_only=True) == 1
    assert store.get_bytes("out", "progress/epoch.log") == b"epoch 1\nepoch 2\n"
    # The end of the job sends what changed since, settled or not, and the EndOfJob outputs.
    write(folders[0], "/opt/ml/processing/progress/final.log", "done")
    assert outputs.upload({CONTINUOUS, END_OF_JOB}) == 2
    assert keys(store) == ["progress/epoch.log", "progress/final.log", "split/train/part-0.csv"]


def test_symbolic_links_are_not_uploaded(
    store: ObjectStore, folders: list[InstanceFolder], tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for S3")
    train = folders[0].local("/opt/ml/processing/train")
    train.mkdir(parents=True)
    os.symlink(secret, train / "link.txt")
    os.symlink(tmp_path, train / "linked-folder")
    write(folders[0], "/opt/ml/processing/train/real.csv", "x")
    said: list[str] = []
    outputs = uploader(store, folders, said)
    outputs.upload({END_OF_JOB})
    outputs.upload({END_OF_JOB})
    assert keys(store) == ["split/train/real.csv"]
    assert said == [
        "algo-1: output 'train': link.txt is a symbolic link; links are not uploaded",
        "algo-1: output 'train': linked-folder is a symbolic link; links are not uploaded",
    ]


def test_an_output_folder_that_was_never_written_uploads_nothing(
    store: ObjectStore, folders: list[InstanceFolder]
) -> None:
    assert uploader(store, folders, []).upload({END_OF_JOB, CONTINUOUS}) == 0
    assert keys(store) == []
