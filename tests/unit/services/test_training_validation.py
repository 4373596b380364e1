"""What CreateTrainingJob refuses beyond the API model, and how it says so."""

from __future__ import annotations

from dataclasses import replace

import pytest

from opensage.errors import LimitExceededError, UnsupportedOperationError, ValidationError
from opensage.services.training.models import (
    AlgorithmSpec,
    Channel,
    MetricDefinition,
    OutputConfig,
    ResourceSpec,
    S3DataSource,
    TrainingJobSpec,
)
from opensage.services.training.validation import check_spec, resolve_algorithm

IMAGE = "683313688378.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def spec(**changes: object) -> TrainingJobSpec:
    base = TrainingJobSpec(
        name="job",
        role_arn="arn:aws:iam::000000000000:role/r",
        algorithm=AlgorithmSpec(training_input_mode="File", training_image=IMAGE),
        output=OutputConfig("s3://bucket/out"),
        channels=[Channel("train", S3DataSource("S3Prefix", "s3://bucket/train/"))],
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_images_and_algorithm_names_resolve_to_builtin_algorithms() -> None:
    assert resolve_algorithm(spec()) == "xgboost"
    by_name = spec(algorithm=AlgorithmSpec(training_input_mode="File", algorithm_name="xgboost"))
    assert resolve_algorithm(by_name) == "xgboost"


@pytest.mark.parametrize(
    ("algorithm", "words"),
    [
        (AlgorithmSpec("File", training_image="python:3.11"), "not an image opensage can run"),
        (AlgorithmSpec("File", algorithm_name="my-marketplace-algo"), "is not known"),
        (AlgorithmSpec("File", training_image=IMAGE, algorithm_name="xgboost"), "not both"),
        (AlgorithmSpec("File"), "must name a TrainingImage"),
    ],
)
def test_unrunnable_algorithms_are_refused(algorithm: AlgorithmSpec, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        resolve_algorithm(spec(algorithm=algorithm))


def test_duplicate_channels_and_bad_uris() -> None:
    twice = [Channel("train", S3DataSource("S3Prefix", "s3://b/t/"))] * 2
    with pytest.raises(ValidationError, match="unique"):
        check_spec(spec(channels=twice), "xgboost", 8)
    with pytest.raises(ValidationError, match="not an S3 URI"):
        check_spec(spec(output=OutputConfig("https://example.com/out")), "xgboost", 8)


def test_features_not_built_yet_are_refused_not_ignored() -> None:
    piped = [Channel("train", S3DataSource("S3Prefix", "s3://b/t/"), input_mode="Pipe")]
    with pytest.raises(UnsupportedOperationError, match="Pipe input mode"):
        check_spec(spec(channels=piped), "xgboost", 8)
    augmented = [Channel("train", S3DataSource("AugmentedManifestFile", "s3://b/m.json"))]
    with pytest.raises(UnsupportedOperationError, match="AugmentedManifestFile"):
        check_spec(spec(channels=augmented), "xgboost", 8)
    scripted = AlgorithmSpec("File", training_image=IMAGE, container_entrypoint=["python", "train.py"])
    with pytest.raises(UnsupportedOperationError, match="script mode"):
        check_spec(spec(algorithm=scripted), "xgboost", 8)
    with pytest.raises(UnsupportedOperationError, match="sagemaker_program asks for script mode"):
        check_spec(spec(hyperparameters={"sagemaker_program": "train.py"}), "xgboost", 8)


def test_metric_definitions_must_compile_and_capture() -> None:
    for regex, words in (("([oops", "does not compile"), ("loss=\\d+", "capture group")):
        algorithm = AlgorithmSpec(
            "File", training_image=IMAGE, metric_definitions=[MetricDefinition("m", regex)]
        )
        with pytest.raises(ValidationError, match=words):
            check_spec(spec(algorithm=algorithm), "xgboost", 8)


def test_instance_counts_are_bounded() -> None:
    with pytest.raises(ValidationError, match="at least 1"):
        check_spec(spec(resources=ResourceSpec(instance_count=0)), "xgboost", 8)
    with pytest.raises(LimitExceededError, match="limit of 8 hosts"):
        check_spec(spec(resources=ResourceSpec(instance_count=9)), "xgboost", 8)
    check_spec(spec(resources=ResourceSpec(instance_count=2)), "xgboost", 8)
