"""FailureReason and ExitMessage of a processing job: what they say and how long they may be."""

from __future__ import annotations

from pathlib import Path

import pytest

from opensage.errors import AlgorithmClientError
from opensage.executor.processing.layout import InstanceFolder
from opensage.executor.processing.messages import (
    MESSAGE_LIMIT,
    failure_reason,
    read_exit_message,
    read_job_exit_message,
    write_exit_message,
)

COMMAND = ["python3", "/opt/ml/processing/input/code/preprocess.py", "--test-fraction", "2"]


def test_a_failure_names_the_instance_the_exit_code_the_error_and_the_command() -> None:
    lines = [
        "Traceback (most recent call last):",
        '  File "preprocess.py", line 9',
        "ValueError: bad fraction",
    ]
    reason = failure_reason("algo-2", 1, lines, COMMAND)
    assert reason.startswith("AlgorithmError: the processing code on algo-2 exited with code 1:\n")
    assert "ValueError: bad fraction" in reason
    assert reason.endswith('Command "python3 /opt/ml/processing/input/code/preprocess.py --test-fraction 2"')


def test_a_killed_instance_names_the_signal() -> None:
    reason = failure_reason("algo-1", -9, [], ["python3", "x.py"])
    assert reason.startswith(
        "AlgorithmError: the processing code on algo-1 was killed by SIGKILL (out of memory?)"
    )
    assert "it printed nothing" in reason


def test_a_long_output_keeps_its_end_within_one_kilobyte() -> None:
    lines = [f"line {index} " + "x" * 80 for index in range(40)] + ["RuntimeError: the real problem"]
    reason = failure_reason("algo-1", 2, lines, COMMAND)
    assert len(reason) <= MESSAGE_LIMIT
    assert "RuntimeError: the real problem" in reason and "exited with code 2" in reason
    assert "line 0 " not in reason and "..." in reason


def test_exit_messages_of_every_instance_are_joined_and_cut_to_one_kilobyte(tmp_path: Path) -> None:
    folders = [InstanceFolder(host, tmp_path / host) for host in ("algo-1", "algo-2", "algo-3")]
    assert read_exit_message(folders) is None
    for folder in folders[:2]:
        folder.message_file.parent.mkdir(parents=True)
    folders[0].message_file.write_text("algo-1 split 284 rows. ")
    folders[1].message_file.write_text("é" * 1000)
    message = read_exit_message(folders)
    assert message is not None and message.startswith("algo-1 split 284 rows. éé")
    # 1 KB of UTF-8, never half a character.
    assert len(message.encode("utf-8")) <= MESSAGE_LIMIT and "\ufffd" not in message


def test_an_exit_message_that_is_not_utf8_is_a_client_error(tmp_path: Path) -> None:
    folder = InstanceFolder("algo-1", tmp_path / "algo-1")
    folder.message_file.parent.mkdir(parents=True)
    folder.message_file.write_bytes(b"\xff\xfe not text")
    with pytest.raises(AlgorithmClientError, match="not UTF-8"):
        read_exit_message([folder])


def test_the_exit_message_reaches_the_control_plane_through_the_job_folder(tmp_path: Path) -> None:
    assert read_job_exit_message(tmp_path) is None
    write_exit_message(tmp_path, "done: 569 rows")
    assert read_job_exit_message(tmp_path) == "done: 569 rows"
    write_exit_message(tmp_path, None)
    assert read_job_exit_message(tmp_path) is None
