"""OPENSAGE_DATABASE_URL=postgresql://... end to end: `opensage server` keeps its metadata in PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.integration.server_process import ServerProcess, started_servers
from tests.postgres import PostgresServer, create_database, drop_database
from tests.support import breast_cancer_split, csv_bytes, ensure_bucket, wait_until_done, xgboost_job

from opensage.embedded import free_port

BUCKET = "postgres-e2e"
SERVER = [sys.executable, "-m", "opensage.cli.main", "server"]


@pytest.fixture()
def database(postgres: PostgresServer) -> Iterator[str]:
    yield create_database(postgres, "opensage_e2e")
    drop_database(postgres, "opensage_e2e")


@pytest.fixture()
def servers(tmp_path: Path) -> Iterator[list[ServerProcess]]:
    yield from started_servers(tmp_path / "home")


def test_a_server_on_postgresql_trains_lists_tags_and_survives_a_crash(
    servers: list[ServerProcess], tmp_path: Path, database: str
) -> None:
    home, port, env = tmp_path / "home", free_port(), {"OPENSAGE_DATABASE_URL": database}
    first = ServerProcess(home, port, env)
    servers.append(first)
    s3, sagemaker = first.client("s3"), first.client("sagemaker")
    ensure_bucket(s3, BUCKET)
    train, _ = breast_cancer_split()
    s3.put_object(Bucket=BUCKET, Key="train/train.csv", Body=csv_bytes(train))
    for name in ("pg-job-b", "pg-job-A"):
        sagemaker.create_training_job(
            **xgboost_job(name, BUCKET, {"train": f"s3://{BUCKET}/train/"}, {"num_round": "5"}),
            Tags=[{"Key": "store", "Value": "postgresql"}],
        )
    for name in ("pg-job-b", "pg-job-A"):
        assert wait_until_done(sagemaker, name)["TrainingJobStatus"] == "Completed"

    # A second server (its own home) on the same database would reconcile the first one's jobs.
    refused = subprocess.run(
        [*SERVER, "--home", str(tmp_path / "other"), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert (
        refused.returncode == 1 and "Another opensage server is using the metadata database" in refused.stderr
    )
    assert "opensage-test" not in refused.stderr, "the database password is never shown"

    first.crash()
    second = ServerProcess(home, port, env)
    servers.append(second)
    sagemaker = second.client("sagemaker")
    page = sagemaker.list_training_jobs(SortBy="Name", SortOrder="Ascending", MaxResults=1)
    assert [j["TrainingJobName"] for j in page["TrainingJobSummaries"]] == ["pg-job-A"]
    rest = sagemaker.list_training_jobs(SortBy="Name", SortOrder="Ascending", NextToken=page["NextToken"])
    assert [j["TrainingJobName"] for j in rest["TrainingJobSummaries"]] == ["pg-job-b"]
    arn = sagemaker.describe_training_job(TrainingJobName="pg-job-A")["TrainingJobArn"]
    assert sagemaker.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "store", "Value": "postgresql"}]
    assert not (home / "opensage.db").exists(), "no SQLite metadata file when PostgreSQL is configured"
