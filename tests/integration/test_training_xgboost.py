"""Built-in XGBoost through the real boto3 clients: upload, train, read logs, fetch a real model."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import numpy as np
import pytest
import xgboost
from tests.support import (
    breast_cancer_split,
    csv_bytes,
    ensure_bucket,
    wait_until_done,
    xgboost_job,
)

BUCKET = "xgb-flow"
HYPERPARAMETERS = {
    "objective": "binary:logistic",
    "num_round": "25",
    "max_depth": "3",
    "eta": "0.3",
    "eval_metric": "logloss,auc",
    "seed": "3",
}


@pytest.fixture(scope="module")
def data(s3_client: Any) -> tuple[Any, Any]:
    train, validation = breast_cancer_split()
    ensure_bucket(s3_client, BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="bc/train/train.csv", Body=csv_bytes(train))
    s3_client.put_object(Bucket=BUCKET, Key="bc/validation/validation.csv", Body=csv_bytes(validation))
    return train, validation


@pytest.fixture(scope="module")
def completed(sagemaker_client: Any, data: tuple[Any, Any]) -> dict[str, Any]:
    channels = {"train": f"s3://{BUCKET}/bc/train/", "validation": f"s3://{BUCKET}/bc/validation/"}
    request = xgboost_job(
        "xgb-flow-1", BUCKET, channels, HYPERPARAMETERS, Tags=[{"Key": "team", "Value": "ml"}]
    )
    arn = sagemaker_client.create_training_job(**request)["TrainingJobArn"]
    assert arn == "arn:aws:sagemaker:us-east-1:000000000000:training-job/xgb-flow-1"
    return wait_until_done(sagemaker_client, "xgb-flow-1")


def load_model(s3_client: Any, uri: str) -> xgboost.Booster:
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    archive = s3_client.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert tar.getnames() == ["xgboost-model"]
        member = tar.extractfile("xgboost-model")
        assert member is not None
        raw = bytearray(member.read())
    booster = xgboost.Booster()
    booster.load_model(raw)
    return booster


def test_the_job_completes_with_sagemakers_statuses(completed: dict[str, Any]) -> None:
    assert completed["TrainingJobStatus"] == "Completed"
    assert completed["SecondaryStatus"] == "Completed"
    assert [t["Status"] for t in completed["SecondaryStatusTransitions"]] == [
        "Starting",
        "Downloading",
        "Training",
        "Uploading",
        "Completed",
    ]
    assert all("EndTime" in t for t in completed["SecondaryStatusTransitions"])
    assert completed["TrainingStartTime"] <= completed["TrainingEndTime"]
    assert completed["TrainingTimeInSeconds"] >= 1 and completed["BillableTimeInSeconds"] >= 1
    assert completed["HyperParameters"] == HYPERPARAMETERS
    assert (
        completed["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataDistributionType"]
        == "FullyReplicated"
    )
    assert completed["StoppingCondition"] == {"MaxRuntimeInSeconds": 300}
    assert "FailureReason" not in completed


def test_final_metrics_are_the_last_rounds(completed: dict[str, Any]) -> None:
    metrics = {m["MetricName"]: m["Value"] for m in completed["FinalMetricDataList"]}
    assert {"train:auc", "validation:auc", "train:logloss", "validation:logloss"} <= set(metrics)
    assert 0.9 < metrics["validation:auc"] <= 1.0
    assert metrics["train:logloss"] < metrics["validation:logloss"] + 0.5


def test_the_model_is_what_xgboost_trains_in_process(
    completed: dict[str, Any], s3_client: Any, data: tuple[Any, Any]
) -> None:
    artifacts = completed["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifacts == f"s3://{BUCKET}/output/xgb-flow-1/output/model.tar.gz"
    served = load_model(s3_client, artifacts)
    train, validation = data
    params = {
        "objective": "binary:logistic",
        "max_depth": 3,
        "eta": 0.3,
        "eval_metric": ["logloss", "auc"],
        "seed": 3,
    }
    local = xgboost.train(params, xgboost.DMatrix(train[:, 1:], label=train[:, 0]), num_boost_round=25)
    features = xgboost.DMatrix(validation[:, 1:])
    np.testing.assert_allclose(served.predict(features), local.predict(features), rtol=1e-5, atol=1e-6)


def test_logs_are_readable_through_cloudwatch_logs(completed: dict[str, Any], logs_client: Any) -> None:
    group = "/aws/sagemaker/TrainingJobs"
    streams = logs_client.describe_log_streams(logGroupName=group, logStreamNamePrefix="xgb-flow-1/")[
        "logStreams"
    ]
    assert len(streams) == 1
    stream = streams[0]["logStreamName"]
    assert stream.startswith("xgb-flow-1/algo-1-")
    messages = [
        e["message"]
        for e in logs_client.get_log_events(logGroupName=group, logStreamName=stream, startFromHead=True)[
            "events"
        ]
    ]
    assert any(m.startswith("[24]\ttrain-logloss:") for m in messages)
    filtered = logs_client.filter_log_events(
        logGroupName=group, logStreamNamePrefix="xgb-flow-1/", filterPattern="validation-auc"
    )
    assert len(filtered["events"]) == 25


def test_tags_given_at_creation_are_listed(completed: dict[str, Any], sagemaker_client: Any) -> None:
    arn = completed["TrainingJobArn"]
    assert sagemaker_client.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "ml"}]
    sagemaker_client.add_tags(ResourceArn=arn, Tags=[{"Key": "stage", "Value": "test"}])
    sagemaker_client.delete_tags(ResourceArn=arn, TagKeys=["team"])
    assert sagemaker_client.list_tags(ResourceArn=arn)["Tags"] == [{"Key": "stage", "Value": "test"}]


def test_names_are_unique(completed: dict[str, Any], sagemaker_client: Any) -> None:
    channels = {"train": f"s3://{BUCKET}/bc/train/"}
    with pytest.raises(sagemaker_client.exceptions.ResourceInUse, match="already exists"):
        sagemaker_client.create_training_job(**xgboost_job("xgb-flow-1", BUCKET, channels, HYPERPARAMETERS))
