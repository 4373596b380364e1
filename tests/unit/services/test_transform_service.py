"""The transform service's state machine, driven by status files, with a fake executor (no processes)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from tests.fakes import FakeExecutor

from opensage.errors import AlreadyExistsError, JobNotFoundError, ValidationError
from opensage.executor.status import Outcome, RunStatus, write_status
from opensage.objects import open_object_store
from opensage.services.hosting.model_service import ModelService
from opensage.services.hosting.models import ContainerDefinition, Model, ModelDefinition
from opensage.services.transform.models import (
    TransformInputSpec,
    TransformJobSpec,
    TransformJobStatus,
    TransformOutputSpec,
    TransformResourcesSpec,
)
from opensage.services.transform.service import RUNNER_MODULE, TransformService
from opensage.settings import Settings
from opensage.store import ListQuery, open_repository

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture()
def service(tmp_path: Path, executor: FakeExecutor) -> TransformService:
    settings = Settings(home=tmp_path / "home")
    repository = open_repository(f"sqlite:///{tmp_path / 'meta.db'}")
    models = ModelService(
        settings, repository, open_object_store((tmp_path / "objects").as_uri()), lambda: NOW
    )
    container = ContainerDefinition(
        "xgboost", "image", "s3://b/model.tar.gz", environment={"A": "model", "B": "b"}
    )
    models.documents.create(Model(ModelDefinition("m", [container]), models.arn("m"), NOW))
    return TransformService(settings, repository, executor, models, clock=lambda: NOW)


def spec(name: str = "job", model: str = "m") -> TransformJobSpec:
    return TransformJobSpec(
        name=name,
        model_name=model,
        input=TransformInputSpec("S3Prefix", "s3://b/in/", content_type="text/csv", split_type="Line"),
        output=TransformOutputSpec("s3://b/out/"),
        resources=TransformResourcesSpec("ml.m5.large", 1),
        environment={"A": "job"},
    )


def report(job_dir: Path, outcome: Outcome | None) -> None:
    status = RunStatus()
    status.enter("Starting", "starting", NOW.timestamp() + 1)
    if outcome is not None:
        status.enter(outcome.status, "done", NOW.timestamp() + 5)
        status.transitions[-1].end_time = NOW.timestamp() + 5
        status.outcome = outcome
    write_status(job_dir, status)


def test_create_launches_the_transform_runner_with_the_model_resolved(
    service: TransformService, executor: FakeExecutor
) -> None:
    job = service.create(spec())
    assert job.status == TransformJobStatus.IN_PROGRESS and job.launches == 1
    assert job.arn == "arn:aws:sagemaker:us-east-1:000000000000:transform-job/job"
    job_dir, module = executor.launched[0]
    assert module == RUNNER_MODULE
    run = json.loads((job_dir / "job.json").read_text())
    # The job's Environment wins over the model's, and the container knows it runs in batch.
    assert run["containers"][0]["environment"] == {"A": "job", "B": "b", "SAGEMAKER_BATCH": "true"}
    assert run["max_payload_bytes"] == 6 * 1024 * 1024 and run["max_concurrent"] == 1


def test_a_missing_model_or_a_taken_name_is_refused(service: TransformService) -> None:
    with pytest.raises(
        ValidationError, match='Could not find model "arn:aws:sagemaker:us-east-1:000000000000:model/nope"'
    ):
        service.create(spec(model="nope"))
    service.create(spec())
    with pytest.raises(AlreadyExistsError, match="already exists"):
        service.create(spec())


def test_describe_of_a_missing_job_is_requested_resource_not_found(service: TransformService) -> None:
    with pytest.raises(JobNotFoundError, match="Requested resource not found"):
        service.describe("ghost")


def test_reconcile_copies_the_outcome_from_the_status_file(
    service: TransformService, executor: FakeExecutor
) -> None:
    job_dir = Path(service.create(spec()).job_dir)
    report(job_dir, None)
    service.reconcile()
    running = service.describe("job")
    assert running.status == TransformJobStatus.IN_PROGRESS and running.start_time is not None
    report(job_dir, Outcome("Failed", "Failed", failure_reason="ClientError: bad row"))
    executor.alive.clear()
    service.reconcile()
    failed = service.describe("job")
    assert failed.status == TransformJobStatus.FAILED and failed.failure_reason == "ClientError: bad row"
    assert (
        failed.end_time is not None and failed.start_time is not None and failed.end_time > failed.start_time
    )


def test_a_job_that_never_started_is_launched_again_then_failed(
    service: TransformService, executor: FakeExecutor
) -> None:
    service.create(spec())
    executor.alive.clear()
    service.recover()
    assert len(executor.launched) == 2 and service.describe("job").launches == 2
    executor.alive.clear()
    service.reconcile()
    ended = service.describe("job")
    assert ended.status == TransformJobStatus.FAILED and "ended without reporting" in (
        ended.failure_reason or ""
    )


def test_stop_goes_through_stopping_to_stopped(service: TransformService, executor: FakeExecutor) -> None:
    job_dir = Path(service.create(spec()).job_dir)
    report(job_dir, None)
    service.reconcile()
    service.stop("job")
    assert executor.stopped == [job_dir]
    assert service.describe("job").status == TransformJobStatus.STOPPING
    service.stop("job")
    report(job_dir, Outcome("Stopped", "Stopped"))
    executor.alive.clear()
    service.reconcile()
    assert service.describe("job").status == TransformJobStatus.STOPPED
    with pytest.raises(ValidationError, match="only an InProgress job can be stopped"):
        service.stop("job")


def test_listing_pages_through_jobs(service: TransformService) -> None:
    for name in ("a-job", "b-job", "c-job"):
        service.create(spec(name))
    page, token = service.list_jobs(ListQuery(max_results=2))
    assert [job.name for job in page] == ["a-job", "b-job"] and token is not None
    rest, _ = service.list_jobs(ListQuery(max_results=2, next_token=token))
    assert [job.name for job in rest] == ["c-job"]
