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
from opensage.services.training.validation import Program, check_spec, resolve_program

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


XGB = Program("builtin", "xgboost")
SKLEARN_IMAGE = "683313688378.dkr.ecr.us-west-2.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def test_images_and_algorithm_names_resolve_to_builtin_algorithms() -> None:
    assert resolve_program(spec()) == XGB
    by_name = spec(algorithm=AlgorithmSpec(training_input_mode="File", algorithm_name="xgboost"))
    assert resolve_program(by_name) == XGB


def test_framework_images_run_users_code() -> None:
    script = spec(
        algorithm=AlgorithmSpec("File", training_image=SKLEARN_IMAGE),
        hyperparameters={
            "sagemaker_program": '"train.py"',
            "sagemaker_submit_directory": '"s3://b/src.tar.gz"',
        },
    )
    program = resolve_program(script)
    assert (program.mode, program.algorithm, program.submit_directory) == (
        "script",
        "sklearn",
        "s3://b/src.tar.gz",
    )
    command = spec(
        algorithm=AlgorithmSpec("File", training_image=SKLEARN_IMAGE, container_entrypoint=["/bin/bash"])
    )
    assert resolve_program(command).mode == "command"
    xgboost_script = spec(hyperparameters={"sagemaker_program": "train.py"})
    assert resolve_program(xgboost_script).mode == "script"
    with pytest.raises(ValidationError, match="runs your code: set the hyperparameters sagemaker_program"):
        resolve_program(spec(algorithm=AlgorithmSpec("File", training_image=SKLEARN_IMAGE)))
    with pytest.raises(ValidationError, match="not an S3 URI"):
        resolve_program(
            replace(
                script, hyperparameters={"sagemaker_program": "t.py", "sagemaker_submit_directory": "src"}
            )
        )


@pytest.mark.parametrize(
    ("algorithm", "words"),
    [
        (AlgorithmSpec("File", training_image="python:3.11"), "not an image opensage can run"),
        (
            AlgorithmSpec("File", training_image="python:3.11", container_entrypoint=["python"]),
            "framework images",
        ),
        (AlgorithmSpec("File", algorithm_name="my-marketplace-algo"), "is not known"),
        (AlgorithmSpec("File", training_image=IMAGE, algorithm_name="xgboost"), "not both"),
        (AlgorithmSpec("File"), "must name a TrainingImage"),
    ],
)
def test_unrunnable_algorithms_are_refused(algorithm: AlgorithmSpec, words: str) -> None:
    with pytest.raises(ValidationError, match=words):
        resolve_program(spec(algorithm=algorithm))


def test_duplicate_channels_and_bad_uris() -> None:
    twice = [Channel("train", S3DataSource("S3Prefix", "s3://b/t/"))] * 2
    with pytest.raises(ValidationError, match="unique"):
        check_spec(spec(channels=twice), XGB, 8)
    with pytest.raises(ValidationError, match="not an S3 URI"):
        check_spec(spec(output=OutputConfig("https://example.com/out")), XGB, 8)


def test_features_not_built_yet_are_refused_not_ignored() -> None:
    piped = [Channel("train", S3DataSource("S3Prefix", "s3://b/t/"), input_mode="Pipe")]
    with pytest.raises(UnsupportedOperationError, match="Pipe input mode"):
        check_spec(spec(channels=piped), XGB, 8)
    augmented = [Channel("train", S3DataSource("AugmentedManifestFile", "s3://b/m.json"))]
    with pytest.raises(UnsupportedOperationError, match="AugmentedManifestFile"):
        check_spec(spec(channels=augmented), XGB, 8)
    arguments_alone = AlgorithmSpec("File", training_image=IMAGE, container_arguments=["-c", "true"])
    with pytest.raises(ValidationError, match="need a ContainerEntrypoint"):
        check_spec(spec(algorithm=arguments_alone), XGB, 8)


def test_metric_definitions_must_compile_and_capture() -> None:
    for regex, words in (("([oops", "does not compile"), ("loss=\\d+", "capture group")):
        algorithm = AlgorithmSpec(
            "File", training_image=IMAGE, metric_definitions=[MetricDefinition("m", regex)]
        )
        with pytest.raises(ValidationError, match=words):
            check_spec(spec(algorithm=algorithm), XGB, 8)


def test_instance_counts_are_bounded() -> None:
    with pytest.raises(ValidationError, match="at least 1"):
        check_spec(spec(resources=ResourceSpec(instance_count=0)), XGB, 8)
    with pytest.raises(LimitExceededError, match="limit of 8 hosts"):
        check_spec(spec(resources=ResourceSpec(instance_count=9)), XGB, 8)
    check_spec(spec(resources=ResourceSpec(instance_count=2)), XGB, 8)


@pytest.mark.parametrize(
    "name", ["linear-learner", "kmeans", "knn", "pca", "randomcutforest", "factorization-machines"]
)
def test_the_aialgs_images_select_their_built_in_algorithm_in_any_region(name: str) -> None:
    for region, account in (("ap-southeast-2", "712309505854"), ("us-east-1", "382416733822")):
        image = f"{account}.dkr.ecr.{region}.amazonaws.com/{name}:1"
        program = resolve_program(spec(algorithm=AlgorithmSpec("File", training_image=image)))
        assert (program.mode, program.algorithm) == ("builtin", name)
    program = resolve_program(spec(algorithm=AlgorithmSpec("File", algorithm_name=name)))
    assert (program.mode, program.algorithm) == ("builtin", name)
