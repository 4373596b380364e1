"""A crash or restart of the server never leaves a job InProgress forever.

The server runs as a real subprocess here, so it can be killed with SIGKILL mid-job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.server_process import ServerProcess, started_servers
from tests.support import (
    breast_cancer_split,
    csv_bytes,
    ensure_bucket,
    wait_for_secondary,
    wait_terminal,
    xgboost_job,
)

from opensage.embedded import free_port
from opensage.executor.liveness import lock_is_held, recorded_pid

BUCKET = "recovery"


@pytest.fixture()
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    yield from started_servers(tmp_path / "home")


def start(servers: list[ServerProcess], home: Path, port: int) -> ServerProcess:
    server = ServerProcess(home, port)
    servers.append(server)
    return server


def upload(server: ServerProcess) -> str:
    s3 = server.client("s3")
    train, _ = breast_cancer_split()
    ensure_bucket(s3, BUCKET)
    s3.put_object(Bucket=BUCKET, Key="train/train.csv", Body=csv_bytes(train))
    return f"s3://{BUCKET}/train/"


def test_a_job_outlives_a_server_crash_and_the_next_server_records_its_end(
    servers: list[ServerProcess], tmp_path: Path
) -> None:
    home, port = tmp_path / "home", free_port()
    first = start(servers, home, port)
    uri = upload(first)
    # Long enough to still be training when the server dies, short enough to finish soon after.
    hyperparameters = {"objective": "binary:logistic", "num_round": "2500", "max_depth": "6", "eta": "0.01"}
    first.client("sagemaker").create_training_job(
        **xgboost_job("survivor", BUCKET, {"train": uri}, hyperparameters)
    )
    wait_for_secondary(first.client("sagemaker"), "survivor", "Training")
    first.crash()
    job_dir = home / "jobs" / "training" / "survivor"
    assert lock_is_held(job_dir), "the job process must keep running without the server"
    second = start(servers, home, port)
    described = wait_terminal(second.client("sagemaker"), "survivor", 120)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    artifacts = described["ModelArtifacts"]["S3ModelArtifacts"]
    bucket, key = artifacts.removeprefix("s3://").split("/", 1)
    assert second.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0


def test_a_job_whose_process_died_with_the_server_is_failed_with_a_reason(
    servers: list[ServerProcess], tmp_path: Path
) -> None:
    home, port = tmp_path / "home", free_port()
    first = start(servers, home, port)
    uri = upload(first)
    endless = {"objective": "binary:logistic", "num_round": "1000000"}
    first.client("sagemaker").create_training_job(**xgboost_job("casualty", BUCKET, {"train": uri}, endless))
    wait_for_secondary(first.client("sagemaker"), "casualty", "Training")
    first.crash()
    job_dir = home / "jobs" / "training" / "casualty"
    pid = recorded_pid(job_dir)
    assert pid is not None
    os.killpg(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while lock_is_held(job_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    second = start(servers, home, port)
    described = second.client("sagemaker").describe_training_job(TrainingJobName="casualty")
    assert described["TrainingJobStatus"] == "Failed"
    assert "ended without reporting" in described["FailureReason"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stopping_the_server_stops_running_jobs(
    servers: list[ServerProcess], tmp_path: Path, signum: signal.Signals
) -> None:
    home, port = tmp_path / "home", free_port()
    first = start(servers, home, port)
    uri = upload(first)
    endless = {"objective": "binary:logistic", "num_round": "1000000"}
    first.client("sagemaker").create_training_job(
        **xgboost_job("interrupted", BUCKET, {"train": uri}, endless)
    )
    wait_for_secondary(first.client("sagemaker"), "interrupted", "Training")
    # uvicorn shuts down gracefully, then re-raises the signal, so SIGTERM ends the process "by SIGTERM".
    assert first.interrupt(signum) in (0, -signum)
    assert not lock_is_held(home / "jobs" / "training" / "interrupted")
    second = start(servers, home, port)
    described = second.client("sagemaker").describe_training_job(TrainingJobName="interrupted")
    assert described["TrainingJobStatus"] == "Stopped" and described["SecondaryStatus"] == "Stopped"


def test_a_second_server_on_the_same_home_or_port_is_refused(
    servers: list[ServerProcess], tmp_path: Path
) -> None:
    home, port = tmp_path / "home", free_port()
    start(servers, home, port)
    base = [sys.executable, "-m", "opensage.cli.main", "server"]
    same_home = subprocess.run(
        [*base, "--home", str(home), "--port", str(free_port())], capture_output=True, text=True, timeout=60
    )
    assert same_home.returncode == 1 and "Another opensage server" in same_home.stderr
    same_port = subprocess.run(
        [*base, "--home", str(tmp_path / "other"), "--port", str(port)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert same_port.returncode == 1 and f"cannot listen on 127.0.0.1:{port}" in same_port.stderr
