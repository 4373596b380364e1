"""Stopping, MaxRuntimeInSeconds, listing and the operations that do not exist yet."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.support import (
    breast_cancer_split,
    csv_bytes,
    ensure_bucket,
    wait_for_secondary,
    wait_terminal,
    xgboost_job,
)

BUCKET = "xgb-lifecycle"
# Far more rounds than a test waits for: these jobs end only when stopped.
ENDLESS = {"objective": "binary:logistic", "num_round": "1000000", "max_depth": "6"}
QUICK = {"objective": "binary:logistic", "num_round": "3"}


@pytest.fixture(scope="module")
def train_uri(s3_client: Any) -> str:
    train, _ = breast_cancer_split()
    ensure_bucket(s3_client, BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="train/train.csv", Body=csv_bytes(train))
    return f"s3://{BUCKET}/train/"


def test_stop_goes_through_stopping_to_stopped(sagemaker_client: Any, train_uri: str) -> None:
    sagemaker_client.create_training_job(**xgboost_job("stop-me", BUCKET, {"train": train_uri}, ENDLESS))
    wait_for_secondary(sagemaker_client, "stop-me", "Training")
    sagemaker_client.stop_training_job(TrainingJobName="stop-me")
    assert sagemaker_client.describe_training_job(TrainingJobName="stop-me")["TrainingJobStatus"] in (
        "Stopping",
        "Stopped",
    )
    sagemaker_client.stop_training_job(TrainingJobName="stop-me")
    described = wait_terminal(sagemaker_client, "stop-me", 60)
    assert described["TrainingJobStatus"] == "Stopped" and described["SecondaryStatus"] == "Stopped"
    statuses = [t["Status"] for t in described["SecondaryStatusTransitions"]]
    assert statuses[:3] == ["Starting", "Downloading", "Training"] and "Stopping" in statuses
    with pytest.raises(
        sagemaker_client.exceptions.ClientError, match="only an InProgress job can be stopped"
    ):
        sagemaker_client.stop_training_job(TrainingJobName="stop-me")
    sagemaker_client.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName="stop-me", WaiterConfig={"Delay": 1, "MaxAttempts": 5}
    )


def test_max_runtime_stops_the_job(sagemaker_client: Any, train_uri: str) -> None:
    request = xgboost_job(
        "too-slow", BUCKET, {"train": train_uri}, ENDLESS, StoppingCondition={"MaxRuntimeInSeconds": 3}
    )
    started = time.monotonic()
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "too-slow", 60)
    assert described["TrainingJobStatus"] == "Stopped"
    assert described["SecondaryStatus"] == "MaxRuntimeExceeded"
    assert time.monotonic() - started >= 3
    assert "MaxRuntimeInSeconds" in described["SecondaryStatusTransitions"][-1]["StatusMessage"]


def test_listing_filters_sorts_and_pages(sagemaker_client: Any, train_uri: str) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    names = [f"listing-{i}" for i in range(5)]
    for name in names:
        sagemaker_client.create_training_job(**xgboost_job(name, BUCKET, {"train": train_uri}, QUICK))
    for name in names:
        wait_terminal(sagemaker_client, name)
    seen: list[str] = []
    request: dict[str, Any] = {
        "NameContains": "LISTING-",
        "MaxResults": 2,
        "SortBy": "Name",
        "SortOrder": "Descending",
    }
    while True:
        page = sagemaker_client.list_training_jobs(**request)
        seen += [job["TrainingJobName"] for job in page["TrainingJobSummaries"]]
        if "NextToken" not in page:
            break
        request["NextToken"] = page["NextToken"]
    assert seen == sorted(names, reverse=True)
    completed = sagemaker_client.list_training_jobs(
        NameContains="listing-", StatusEquals="Completed", CreationTimeAfter=before, MaxResults=100
    )["TrainingJobSummaries"]
    assert sorted(job["TrainingJobName"] for job in completed) == names
    summary = completed[0]
    assert {
        "TrainingJobName",
        "TrainingJobArn",
        "CreationTime",
        "TrainingJobStatus",
        "SecondaryStatus",
    } <= set(summary)
    assert (
        sagemaker_client.list_training_jobs(NameContains="listing-", StatusEquals="Failed")[
            "TrainingJobSummaries"
        ]
        == []
    )
    paginator = sagemaker_client.get_paginator("list_training_jobs")
    paged = [
        j["TrainingJobName"]
        for p in paginator.paginate(NameContains="listing-", PaginationConfig={"PageSize": 2})
        for j in p["TrainingJobSummaries"]
    ]
    assert paged == names


def test_operations_not_built_yet_answer_clearly(sagemaker_client: Any) -> None:
    with pytest.raises(sagemaker_client.exceptions.ClientError) as raised:
        sagemaker_client.list_notebook_instances()
    assert raised.value.response["Error"]["Code"] == "UnknownOperationException"
    assert "does not implement SageMaker.ListNotebookInstances" in raised.value.response["Error"]["Message"]
