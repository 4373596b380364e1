"""The processing service's state machine, driven by status files, with a fake executor (no processes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.fakes import FakeExecutor

from opensage.errors import AlreadyExistsError, JobNotFoundError, ValidationError
from opensage.executor.processing.messages import write_exit_message
from opensage.executor.status import Outcome, RunStatus, write_status
from opensage.services.processing.models import (
    AppSpec,
    ClusterSpec,
    ProcessingInputSpec,
    ProcessingJobSpec,
    ProcessingJobStatus,
    ProcessingOutputSpec,
    S3InputSpec,
    S3OutputSpec,
)
from opensage.services.processing.service import RUNNER_MODULE, ProcessingService
from opensage.settings import Settings
from opensage.store import ListQuery, open_repository

NOW = datetime(2026, 1, 1, tzinfo=UTC)
SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


@pytest.fixture()
def service(tmp_path: Path, executor: FakeExecutor) -> ProcessingService:
    settings = Settings(home=tmp_path / "home")
    repository = open_repository(f"sqlite:///{tmp_path / 'meta.db'}")
    return ProcessingService(settings, repository, executor, clock=lambda: NOW)


def spec(name: str = "job") -> ProcessingJobSpec:
    return ProcessingJobSpec(
        name=name,
        role_arn="arn:aws:iam::000000000000:role/r",
        app=AppSpec(SKLEARN, ["python3", "preprocess.py"], ["--test-fraction", "0.25"]),
        cluster=ClusterSpec(volume_size_gb=10, instance_count=2),
        inputs=[
            ProcessingInputSpec(
                "code", S3InputSpec("s3://b/code/", "S3Prefix", "/opt/ml/processing/input/code/")
            ),
            ProcessingInputSpec(
                "data",
                S3InputSpec(
                    "s3://b/data/", "S3Prefix", "/opt/ml/processing/data", distribution="ShardedByS3Key"
                ),
            ),
        ],
        outputs=[
            ProcessingOutputSpec(
                "train", S3OutputSpec("s3://b/out/train", "Continuous", "/opt/ml/processing/train")
            )
        ],
        has_output_config=True,
        environment={"MODE": "split"},
    )


def report(job_dir: Path, outcome: Outcome | None) -> None:
    status = RunStatus()
    status.enter("Starting", "starting", NOW.timestamp() + 1)
    if outcome is not None:
        status.enter(outcome.status, "done", NOW.timestamp() + 5)
        status.transitions[-1].end_time = NOW.timestamp() + 5
        status.outcome = outcome
    write_status(job_dir, status)


def test_create_launches_the_processing_runner_with_defaults_resolved(
    service: ProcessingService, executor: FakeExecutor
) -> None:
    job = service.create(spec())
    assert job.status == ProcessingJobStatus.IN_PROGRESS and job.launches == 1 and job.framework == "sklearn"
    assert job.arn == "arn:aws:sagemaker:us-east-1:000000000000:processing-job/job"
    job_dir, module = executor.launched[0]
    assert module == RUNNER_MODULE and job_dir.parts[-2:] == ("processing", "job")
    run = json.loads((job_dir / "job.json").read_text())
    assert run["entrypoint"] == ["python3", "preprocess.py"] and run["arguments"] == [
        "--test-fraction",
        "0.25",
    ]
    assert run["instance_count"] == 2 and run["instance_type"] == "ml.m5.xlarge"
    assert run["max_runtime_seconds"] == 86_400 and run["environment"] == {"MODE": "split"}
    code, data = run["inputs"]
    # LocalPaths arrive normalised; SageMaker's defaults are filled in.
    assert code["local_path"] == "/opt/ml/processing/input/code" and code["distribution"] == "FullyReplicated"
    assert data["distribution"] == "ShardedByS3Key" and data["compression"] == "None"
    assert run["outputs"] == [
        {
            "name": "train",
            "s3_uri": "s3://b/out/train",
            "local_path": "/opt/ml/processing/train",
            "upload_mode": "Continuous",
            "app_managed": False,
        }
    ]


def test_a_taken_name_or_a_bad_request_is_refused(service: ProcessingService, executor: FakeExecutor) -> None:
    service.create(spec())
    with pytest.raises(AlreadyExistsError, match="already exists"):
        service.create(spec())
    bad = ProcessingJobSpec(
        "bad", "arn:aws:iam::000000000000:role/r", AppSpec("python:3.11", ["python3"]), ClusterSpec(10)
    )
    with pytest.raises(ValidationError, match="not an image opensage can run"):
        service.create(bad)
    assert len(executor.launched) == 1


def test_describe_of_a_missing_job_is_requested_resource_not_found(service: ProcessingService) -> None:
    with pytest.raises(JobNotFoundError, match="Requested resource not found"):
        service.describe("ghost")


def test_reconcile_copies_the_outcome_and_the_exit_message(
    service: ProcessingService, executor: FakeExecutor
) -> None:
    job_dir = Path(service.create(spec()).job_dir)
    report(job_dir, None)
    service.reconcile()
    running = service.describe("job")
    assert running.status == ProcessingJobStatus.IN_PROGRESS and running.start_time is not None
    write_exit_message(job_dir, "rows: 426 train, 143 test")
    report(job_dir, Outcome("Completed", "Completed"))
    executor.alive.clear()
    service.reconcile()
    done = service.describe("job")
    assert done.status == ProcessingJobStatus.COMPLETED and done.exit_message == "rows: 426 train, 143 test"
    assert done.failure_reason is None and done.end_time is not None and done.start_time is not None
    assert done.end_time > done.start_time


def test_a_failure_is_recorded_with_its_reason(service: ProcessingService, executor: FakeExecutor) -> None:
    job_dir = Path(service.create(spec()).job_dir)
    report(job_dir, Outcome("Failed", "Failed", failure_reason="AlgorithmError: exit code 1"))
    executor.alive.clear()
    service.reconcile()
    failed = service.describe("job")
    assert (
        failed.status == ProcessingJobStatus.FAILED and failed.failure_reason == "AlgorithmError: exit code 1"
    )
    assert failed.exit_message is None


def test_stop_goes_through_stopping_to_stopped(service: ProcessingService, executor: FakeExecutor) -> None:
    job_dir = Path(service.create(spec()).job_dir)
    report(job_dir, None)
    service.reconcile()
    service.stop("job")
    assert executor.stopped == [job_dir]
    assert service.describe("job").status == ProcessingJobStatus.STOPPING
    report(job_dir, Outcome("Stopped", "Stopped"))
    executor.alive.clear()
    service.reconcile()
    assert service.describe("job").status == ProcessingJobStatus.STOPPED
    with pytest.raises(ValidationError, match="only an InProgress job can be stopped"):
        service.stop("job")


def test_a_process_that_vanished_while_stopping_is_stopped(
    service: ProcessingService, executor: FakeExecutor
) -> None:
    job_dir = Path(service.create(spec()).job_dir)
    report(job_dir, None)
    service.reconcile()
    service.stop("job")
    executor.alive.clear()
    service.reconcile()
    stopped = service.describe("job")
    assert stopped.status == ProcessingJobStatus.STOPPED and stopped.end_time == NOW


def test_listing_filters_and_pages(service: ProcessingService) -> None:
    for name in ("a-prep", "b-prep", "c-other"):
        service.create(spec(name))
    page, token = service.list_jobs(ListQuery(name_contains="prep", max_results=1))
    assert [job.name for job in page] == ["a-prep"] and token is not None
    rest, last = service.list_jobs(ListQuery(name_contains="prep", max_results=1, next_token=token))
    assert [job.name for job in rest] == ["b-prep"] and last is None
