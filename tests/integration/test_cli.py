"""The command line as a user runs it: env, jobs list/describe/logs, and the demo end to end."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from tests.scripts import SKLEARN_IMAGE
from tests.support import (
    ROLE_ARN,
    TEST_ACCESS_KEY_ID,
    TEST_SECRET_ACCESS_KEY,
    breast_cancer_split,
    csv_bytes,
    ensure_bucket,
    wait_for_secondary,
    xgboost_job,
)

from opensage.cli.main import _register, cli
from opensage.embedded import EmbeddedServer, free_port

BUCKET = "cli-tests"


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


@pytest.fixture(autouse=True)
def _signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI signs with AWS_ACCESS_KEY_ID/SECRET when set, as after eval "$(opensage env)"."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY)


@pytest.fixture(scope="module")
def train_uri(s3_client: Any) -> str:
    train, _ = breast_cancer_split()
    ensure_bucket(s3_client, BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="train/train.csv", Body=csv_bytes(train))
    return f"s3://{BUCKET}/train/"


def test_env_prints_what_a_client_needs(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["env", "--home", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "export AWS_ENDPOINT_URL=http://127.0.0.1:8080" in result.output
    for name in ("AWS_DEFAULT_REGION=us-east-1", "AWS_ACCESS_KEY_ID=", "AWS_SECRET_ACCESS_KEY="):
        assert f"export {name}" in result.output


def test_env_points_at_the_running_server(runner: CliRunner, server: EmbeddedServer, tmp_path: Path) -> None:
    (tmp_path / "server.json").write_text(f'{{"url": "{server.endpoint_url}", "pid": 1}}')
    result = runner.invoke(cli, ["env", "--home", str(tmp_path)])
    assert f"export AWS_ENDPOINT_URL={server.endpoint_url}" in result.output


def test_jobs_logs_list_and_describe(
    runner: CliRunner, server: EmbeddedServer, sagemaker_client: Any, train_uri: str
) -> None:
    request = xgboost_job(
        "cli-logs", BUCKET, {"train": train_uri}, {"objective": "binary:logistic", "num_round": "4"}
    )
    sagemaker_client.create_training_job(**request)
    followed = runner.invoke(
        cli, ["--endpoint-url", server.endpoint_url, "jobs", "logs", "cli-logs", "--follow"]
    )
    assert followed.exit_code == 0, followed.output
    assert "[3]\ttrain-logloss:" in followed.output
    assert "--- cli-logs: Completed" in followed.output
    again = runner.invoke(cli, ["--endpoint-url", server.endpoint_url, "jobs", "logs", "cli-logs"])
    assert again.output.count("train-logloss:") == 4
    listed = runner.invoke(
        cli, ["--endpoint-url", server.endpoint_url, "jobs", "list", "--status", "Completed"]
    )
    assert "cli-logs" in listed.output
    described = runner.invoke(cli, ["--endpoint-url", server.endpoint_url, "jobs", "describe", "cli-logs"])
    assert '"TrainingJobStatus": "Completed"' in described.output


def test_jobs_stop_and_errors(
    runner: CliRunner, server: EmbeddedServer, sagemaker_client: Any, train_uri: str
) -> None:
    endless = {"objective": "binary:logistic", "num_round": "1000000"}
    sagemaker_client.create_training_job(**xgboost_job("cli-stop", BUCKET, {"train": train_uri}, endless))
    wait_for_secondary(sagemaker_client, "cli-stop", "Training")
    stopped = runner.invoke(cli, ["--endpoint-url", server.endpoint_url, "jobs", "stop", "cli-stop"])
    assert stopped.exit_code == 0 and "Stopping cli-stop" in stopped.output
    missing = runner.invoke(cli, ["--endpoint-url", server.endpoint_url, "jobs", "describe", "no-such-job"])
    assert missing.exit_code == 1 and "ValidationException: Requested resource not found" in missing.output
    nobody = runner.invoke(cli, ["--endpoint-url", f"http://127.0.0.1:{free_port()}", "jobs", "list"])
    assert nobody.exit_code == 1 and "no opensage server answers" in nobody.output


def test_processing_jobs_and_endpoints_through_the_cli(
    runner: CliRunner, server: EmbeddedServer, sagemaker_client: Any, s3_client: Any, train_uri: str
) -> None:
    from opensage.cli.jobs import host_of

    s3_client.put_object(Bucket=BUCKET, Key="code/hello.py", Body=b"print('hello from processing')\n")
    code = {
        "S3Uri": f"s3://{BUCKET}/code/",
        "LocalPath": "/opt/ml/processing/input/code",
        "S3DataType": "S3Prefix",
    }
    sagemaker_client.create_processing_job(
        ProcessingJobName="cli-processing",
        RoleArn=ROLE_ARN,
        AppSpecification={
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/hello.py"],
        },
        ProcessingInputs=[{"InputName": "code", "S3Input": {**code, "S3InputMode": "File"}}],
        ProcessingResources={
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 10}
        },
    )
    url = ["--endpoint-url", server.endpoint_url]
    followed = runner.invoke(
        cli, [*url, "jobs", "logs", "--kind", "processing", "cli-processing", "--follow"]
    )
    assert followed.exit_code == 0, followed.output
    assert "hello from processing" in followed.output and "--- cli-processing: Completed" in followed.output
    listed = runner.invoke(cli, [*url, "jobs", "list", "--kind", "processing"])
    assert "cli-processing" in listed.output and "Completed" in listed.output
    described = runner.invoke(cli, [*url, "jobs", "describe", "--kind", "processing", "cli-processing"])
    assert '"ProcessingJobStatus": "Completed"' in described.output
    endpoints = runner.invoke(cli, [*url, "endpoints", "list"])
    assert endpoints.exit_code == 0, endpoints.output
    missing = runner.invoke(cli, [*url, "endpoints", "describe", "no-such-endpoint"])
    assert missing.exit_code == 1 and "Could not find endpoint" in missing.output
    assert host_of("job/algo-2-1700000000") == "algo-2"
    assert host_of("job/i-0123456789abcdef0-1700000000/data-log") == "i-0123456789abcdef0/data-log"


def test_follow_prints_lines_while_the_job_runs(
    runner: CliRunner, server: EmbeddedServer, sagemaker_client: Any, train_uri: str
) -> None:
    request = xgboost_job(
        "cli-live", BUCKET, {"train": train_uri}, {"objective": "binary:logistic", "num_round": "400"}
    )
    sagemaker_client.create_training_job(**request)
    output: dict[str, str] = {}

    def follow() -> None:
        output["text"] = runner.invoke(
            cli, ["--endpoint-url", server.endpoint_url, "jobs", "logs", "cli-live", "-f"]
        ).output

    thread = threading.Thread(target=follow)
    thread.start()
    thread.join(120)
    assert "[399]\ttrain-logloss:" in output["text"] and "--- cli-live: Completed" in output["text"]


def test_the_demo_runs_end_to_end(tmp_path: Path) -> None:
    environment = {**os.environ, "OPENSAGE_HOME": str(tmp_path / "home"), "OPENSAGE_PORT": str(free_port())}
    completed = subprocess.run(
        [sys.executable, "-m", "opensage.cli.main", "demo", "--rounds", "20"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Completed in" in completed.stdout and "validation:auc" in completed.stdout
    auc = float(completed.stdout.split("held-out cases = ")[1].split()[0])
    assert auc > 0.9
    assert "CreateEndpoint opensage-demo" in completed.stdout and "InService after" in completed.stdout
    served_auc = float(
        completed.stdout.split("InvokeEndpoint with the 114 held-out cases: AUC ")[1].split(";")[0]
    )
    assert abs(served_auc - auc) < 1e-6, "the endpoint must serve the same model the demo downloaded"
    assert (
        tmp_path / "home" / "objects" / "opensage-demo" / "breast-cancer" / "train" / "train.csv"
    ).exists()
