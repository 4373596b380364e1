"""How an instance's code is started: the command, its folder, its environment, and what refuses it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from opensage.errors import AlgorithmClientError
from opensage.executor.processing import group, launch
from opensage.executor.processing.layout import InstanceFolder
from opensage.executor.processing.spec import InputRun, ProcessingRun


def run(tmp_path: Path, inputs: list[InputRun], framework: str = "sklearn") -> ProcessingRun:
    return ProcessingRun(
        name="prep",
        arn="arn:aws:sagemaker:us-east-1:000000000000:processing-job/prep",
        job_dir=str(tmp_path),
        objects_url="file:///nowhere",
        logs_root=str(tmp_path / "logs"),
        log_group="/aws/sagemaker/ProcessingJobs",
        created_epoch=1,
        role_arn="arn:aws:iam::000000000000:role/r",
        image_uri="683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        framework=framework,
        entrypoint=["python3", "script.py"],
        arguments=["--rows", "10"],
        instance_count=1,
        instance_type="ml.m5.xlarge",
        volume_size_gb=30,
        max_runtime_seconds=60,
        inputs=inputs,
        environment={"MODE": "split", "PYTHONUNBUFFERED": "0"},
    )


CODE = InputRun("code", "s3://b/code/", "S3Prefix", "/opt/ml/processing/input/code")
DATA = InputRun("data", "s3://b/data/", "S3Prefix", "/opt/ml/processing/input/data")


def test_the_code_starts_in_the_code_inputs_folder_else_in_opt_ml(tmp_path: Path) -> None:
    assert launch.working_directory(run(tmp_path, [DATA, CODE])) == "/opt/ml/processing/input/code"
    assert launch.working_directory(run(tmp_path, [DATA])) == "/opt/ml"


def test_the_command_mounts_the_instance_folder_and_enters_the_working_folder(tmp_path: Path) -> None:
    folder = InstanceFolder("algo-1", tmp_path / "algo-1")
    started = launch.launch(run(tmp_path, [CODE]), folder)
    assert started.command[:4] == [sys.executable, "-m", "opensage.runtime.usercode.optml", str(folder.root)]
    assert started.command[4:7] == ["/bin/sh", "-c", 'cd "$0" && exec "$@"']
    assert started.command[7:] == ["/opt/ml/processing/input/code", "python3", "script.py", "--rows", "10"]
    assert started.cwd == folder.root


def test_the_environment_is_the_jobs_on_opensages_python_with_pip_kept_apart(tmp_path: Path) -> None:
    started = launch.launch(run(tmp_path, [CODE]), InstanceFolder("algo-1", tmp_path / "algo-1"))
    variables = started.environment
    # The job's Environment wins over opensage's own defaults.
    assert variables["MODE"] == "split" and variables["PYTHONUNBUFFERED"] == "0"
    assert variables["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    assert variables["PIP_PREFIX"] == str(tmp_path / "pip" / "algo-1")


def test_a_machine_that_cannot_mount_opt_ml_fails_the_job_saying_how_to_enable_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launch.optml, "available", lambda: False)
    with pytest.raises(AlgorithmClientError, match=r"cannot mount it here: run the server as root"):
        launch.check_can_run(run(tmp_path, [CODE]))


def test_a_missing_framework_fails_the_job_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(launch, "missing_framework", lambda framework: "add it with `pip install tensorflow`")
    with pytest.raises(AlgorithmClientError, match="pip install tensorflow"):
        launch.check_can_run(run(tmp_path, [CODE], framework="tensorflow"))


def test_process_groups_are_read_from_proc_stat_whatever_the_command_name() -> None:
    assert group._process_group("4242 (python3) S 1 4200 4200 0 -1 4194560") == 4200
    assert group._process_group("77 (a) b) (c) R 5 76 76 0") == 76
    assert group._process_group("garbage") is None


def test_every_process_the_code_started_is_found_and_killed_through_the_group() -> None:
    # A job process leads its own process group, as the local executor starts it.
    script = (
        "import subprocess; from opensage.executor.processing import group\n"
        "child = subprocess.Popen(['sleep', '30'])\n"
        "print(group.members() == [child.pid])\n"
        "group.kill_members()\n"
        "print(child.wait())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], start_new_session=True, capture_output=True, text=True, timeout=60
    )
    assert done.stdout.split() == ["True", "-9"], done.stderr
