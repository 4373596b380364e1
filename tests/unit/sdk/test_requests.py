"""The requests the SDK sends: CreateTrainingJob, CreateModel, endpoint variants, CreateTransformJob."""

from __future__ import annotations

import json
from typing import Any

import pytest

from opensage.sdk import JobResources, OpenSageSDKError, Serverless
from opensage.sdk._hosting import _variant
from opensage.sdk._training import (
    Channel,
    TrainingRun,
    builtin_value,
    script_hyperparameters,
    training_request,
)
from opensage.sdk._transform import transform_request


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (True, "true"),
        (False, "false"),
        (50, "50"),
        (0.1, "0.1"),
        (1e-6, "1e-06"),
        ("binary:logistic", "binary:logistic"),
        (["auc", "logloss"], "auc,logloss"),
        ((1, 0.5), "1,0.5"),
    ],
)
def test_builtin_hyperparameters_are_written_as_the_algorithms_read_them(value: Any, text: str) -> None:
    assert builtin_value(value) == text


def test_script_hyperparameters_are_json_encoded_one_by_one() -> None:
    encoded = script_hyperparameters({"epochs": 3, "lr": 0.01, "name": "x", "layers": [1, 2], "on": True})
    assert encoded == {"epochs": "3", "lr": "0.01", "name": '"x"', "layers": "[1, 2]", "on": "true"}
    assert {key: json.loads(value) for key, value in encoded.items()}["layers"] == [1, 2]


def test_a_training_request_has_what_create_training_job_requires() -> None:
    request = training_request(
        name="job-1",
        role="arn:aws:iam::000000000000:role/r",
        image="img",
        hyperparameters={"num_round": "5"},
        channels=[
            Channel("train", "s3://b/job-1/input/train/data.csv", "text/csv"),
            Channel("code", "s3://b/c/"),
        ],
        output_path="s3://b/",
        resources=JobResources(instance_count=2, max_runtime_seconds=600),
        metric_definitions={"accuracy": r"accuracy=(\S+)"},
        environment={"A": "1"},
        tags={"team": "ml"},
    )
    assert request["AlgorithmSpecification"] == {
        "TrainingImage": "img",
        "TrainingInputMode": "File",
        "MetricDefinitions": [{"Name": "accuracy", "Regex": r"accuracy=(\S+)"}],
    }
    train, code = request["InputDataConfig"]
    assert train["ContentType"] == "text/csv" and "ContentType" not in code
    assert train["DataSource"]["S3DataSource"] == {
        "S3DataType": "S3Prefix",
        "S3Uri": "s3://b/job-1/input/train/data.csv",
        "S3DataDistributionType": "FullyReplicated",
    }
    assert request["ResourceConfig"] == {
        "InstanceType": "ml.m5.xlarge",
        "InstanceCount": 2,
        "VolumeSizeInGB": 30,
    }
    assert request["StoppingCondition"] == {"MaxRuntimeInSeconds": 600}
    assert request["OutputDataConfig"] == {"S3OutputPath": "s3://b/"}
    assert request["Environment"] == {"A": "1"}
    assert request["Tags"] == [{"Key": "team", "Value": "ml"}]


def test_optional_parts_are_left_out_rather_than_sent_empty() -> None:
    request = training_request(
        name="j",
        role="r",
        image="i",
        hyperparameters={},
        channels=[],
        output_path="s3://b/",
        resources=JobResources(),
    )
    assert not {"InputDataConfig", "Environment", "Tags"} & set(request)
    assert "MetricDefinitions" not in request["AlgorithmSpecification"]


def test_variants_are_instances_or_serverless() -> None:
    assert _variant("m", 2, "ml.m5.large", False) == {
        "VariantName": "AllTraffic",
        "ModelName": "m",
        "InitialInstanceCount": 2,
        "InstanceType": "ml.m5.large",
    }
    assert _variant("m", 1, "ml.m5.large", True)["ServerlessConfig"] == {
        "MemorySizeInMB": 2048,
        "MaxConcurrency": 5,
    }
    custom = _variant("m", 1, "ml.m5.large", Serverless(memory_size_in_mb=1024, max_concurrency=1))
    assert custom["ServerlessConfig"] == {"MemorySizeInMB": 1024, "MaxConcurrency": 1}
    assert "InstanceType" not in custom


def test_a_transform_request_reads_lines_and_assembles_lines() -> None:
    request = transform_request(
        name="t",
        model="m",
        input_uri="s3://b/t/input/data.csv",
        content_type="text/csv",
        split_type="Line",
        output_path="s3://b/t/output",
        accept=None,
        instance_type="ml.m5.large",
        instance_count=1,
    )
    assert request["TransformInput"] == {
        "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://b/t/input/data.csv"}},
        "SplitType": "Line",
        "ContentType": "text/csv",
    }
    assert request["TransformOutput"] == {"S3OutputPath": "s3://b/t/output", "AssembleWith": "Line"}


class StubSageMaker:
    def __init__(self, description: dict[str, Any]) -> None:
        self.description = description
        self.created: list[dict[str, Any]] = []

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        return dict(self.description, TrainingJobName=TrainingJobName)

    def create_model(self, **request: Any) -> dict[str, Any]:
        self.created.append(request)
        return {}


class StubSession:
    endpoint_url = "http://stub"
    region = "eu-west-1"
    role = "arn:aws:iam::000000000000:role/r"

    def __init__(self, description: dict[str, Any]) -> None:
        self.sagemaker = StubSageMaker(description)


def completed(image: str, hyperparameters: dict[str, str]) -> dict[str, Any]:
    return {
        "TrainingJobStatus": "Completed",
        "AlgorithmSpecification": {"TrainingImage": image},
        "HyperParameters": hyperparameters,
        "ModelArtifacts": {"S3ModelArtifacts": "s3://b/j/output/model.tar.gz"},
    }


def test_a_script_models_container_names_its_program_and_code() -> None:
    session = StubSession(
        completed(
            "sklearn-image",
            {
                "sagemaker_program": '"train.py"',
                "sagemaker_submit_directory": '"s3://b/j/source/sourcedir.tar.gz"',
            },
        )
    )
    TrainingRun(session, "j").create_model("model-1")  # type: ignore[arg-type]
    (request,) = session.sagemaker.created
    assert request["ModelName"] == "model-1" and request["ExecutionRoleArn"] == session.role
    assert request["PrimaryContainer"] == {
        "Image": "sklearn-image",
        "ModelDataUrl": "s3://b/j/output/model.tar.gz",
        "Environment": {
            "SAGEMAKER_PROGRAM": "train.py",
            "SAGEMAKER_REGION": "eu-west-1",
            "SAGEMAKER_SUBMIT_DIRECTORY": "s3://b/j/source/sourcedir.tar.gz",
        },
    }


def test_a_builtin_model_is_its_image_and_artifacts_only() -> None:
    image = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    session = StubSession(completed(image, {"num_round": "7"}))
    run = TrainingRun(session, "j")  # type: ignore[arg-type]
    run.create_model("m")
    assert session.sagemaker.created[0]["PrimaryContainer"] == {
        "Image": image,
        "ModelDataUrl": "s3://b/j/output/model.tar.gz",
    }
    steps = run._steps()
    assert steps is not None and steps.total == 7 and steps.step_of("[6]\ttrain-auc:0.9") == 7


def test_a_run_without_a_model_cannot_make_one() -> None:
    session = StubSession(
        {"TrainingJobStatus": "InProgress", "AlgorithmSpecification": {"TrainingImage": "i"}}
    )
    with pytest.raises(OpenSageSDKError, match="has no model yet \\(it is InProgress\\)"):
        TrainingRun(session, "j").create_model()  # type: ignore[arg-type]
    assert session.sagemaker.created == []
