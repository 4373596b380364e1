"""Bad input ends a job Failed with a reason that names the problem — never a traceback."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support import breast_cancer_split, csv_bytes, ensure_bucket, wait_terminal, xgboost_job

BUCKET = "xgb-failures"
GOOD = {"objective": "binary:logistic", "num_round": "5"}


@pytest.fixture(scope="module")
def uploaded(s3_client: Any) -> str:
    train, _ = breast_cancer_split()
    ensure_bucket(s3_client, BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="good/train.csv", Body=csv_bytes(train[:100]))
    lines = csv_bytes(train[:30]).decode().splitlines()
    cells = lines[16].split(",")
    cells[2] = "abc"
    lines[16] = ",".join(cells)
    s3_client.put_object(Bucket=BUCKET, Key="broken/data.csv", Body=("\n".join(lines) + "\n").encode())
    s3_client.put_object(Bucket=BUCKET, Key="empty/part-0.csv", Body=b"")
    return BUCKET


def fails(sagemaker: Any, name: str, channel: str, hyperparameters: dict[str, str]) -> str:
    sagemaker.create_training_job(**xgboost_job(name, BUCKET, {"train": channel}, hyperparameters))
    described = wait_terminal(sagemaker, name)
    assert described["TrainingJobStatus"] == "Failed", described
    assert described["SecondaryStatus"] == "Failed"
    reason: str = described["FailureReason"]
    assert "Traceback" not in reason and len(reason) <= 1024
    return reason


def test_a_non_numeric_cell_names_file_and_line(sagemaker_client: Any, uploaded: str) -> None:
    reason = fails(sagemaker_client, "fail-cell", f"s3://{uploaded}/broken/", GOOD)
    assert reason.startswith("ClientError:")
    assert "data.csv" in reason and "line 17" in reason and "abc" in reason


def test_an_empty_channel(sagemaker_client: Any, uploaded: str) -> None:
    reason = fails(sagemaker_client, "fail-empty", f"s3://{uploaded}/empty/", GOOD)
    assert reason.startswith("ClientError:") and "train" in reason


def test_a_prefix_with_no_objects(sagemaker_client: Any, uploaded: str) -> None:
    reason = fails(sagemaker_client, "fail-nothing", f"s3://{uploaded}/nothing-here/", GOOD)
    assert reason.startswith("ClientError: No S3 objects found under S3 URL")


def test_a_missing_required_hyperparameter(sagemaker_client: Any, uploaded: str) -> None:
    reason = fails(
        sagemaker_client, "fail-required", f"s3://{uploaded}/good/", {"objective": "binary:logistic"}
    )
    assert reason.startswith("ClientError:") and "num_round" in reason


def test_an_unknown_hyperparameter(sagemaker_client: Any, uploaded: str) -> None:
    reason = fails(sagemaker_client, "fail-unknown", f"s3://{uploaded}/good/", {**GOOD, "max_dept": "3"})
    assert reason.startswith("ClientError:") and "max_dept" in reason


def test_an_invalid_objective(sagemaker_client: Any, uploaded: str) -> None:
    reason = fails(
        sagemaker_client, "fail-objective", f"s3://{uploaded}/good/", {**GOOD, "objective": "binary:magic"}
    )
    assert reason.startswith("ClientError:") and "binary:magic" in reason


def test_a_missing_output_bucket(sagemaker_client: Any, uploaded: str) -> None:
    request = xgboost_job("fail-output", BUCKET, {"train": f"s3://{uploaded}/good/"}, GOOD)
    request["OutputDataConfig"] = {"S3OutputPath": "s3://no-such-output-bucket/out"}
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "fail-output")
    assert described["TrainingJobStatus"] == "Failed"
    assert "no-such-output-bucket" in described["FailureReason"]


def test_requests_sagemaker_would_refuse_are_refused(sagemaker_client: Any) -> None:
    errors = sagemaker_client.exceptions
    bad_name = xgboost_job("bad_name!", BUCKET, {"train": f"s3://{BUCKET}/good/"}, GOOD)
    with pytest.raises(sagemaker_client.exceptions.ClientError) as raised:
        sagemaker_client.create_training_job(**bad_name)
    assert raised.value.response["Error"]["Code"] == "ValidationException"
    assert "trainingJobName" in raised.value.response["Error"]["Message"]
    not_builtin = xgboost_job("not-builtin", BUCKET, {"train": f"s3://{BUCKET}/good/"}, GOOD)
    not_builtin["AlgorithmSpecification"]["TrainingImage"] = "python:3.11"
    with pytest.raises(errors.ClientError, match="not an image opensage can run"):
        sagemaker_client.create_training_job(**not_builtin)
    with pytest.raises(errors.ClientError) as missing:
        sagemaker_client.describe_training_job(TrainingJobName="never-created")
    assert missing.value.response["Error"]["Code"] == "ValidationException"
    assert "Requested resource not found" in missing.value.response["Error"]["Message"]
