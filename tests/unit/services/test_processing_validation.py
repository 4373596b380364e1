"""CreateProcessingJob checks beyond botocore's model: images, LocalPaths, names and what opensage refuses."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from opensage.errors import LimitExceededError, UnsupportedOperationError, ValidationError
from opensage.runtime.frameworks import Framework
from opensage.services.processing import validation
from opensage.services.processing.models import (
    AppSpec,
    ClusterSpec,
    ProcessingInputSpec,
    ProcessingJobSpec,
    ProcessingOutputSpec,
    S3InputSpec,
    S3OutputSpec,
)
from opensage.services.processing.validation import check_spec, container_path

SKLEARN = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
PYTORCH = "763104351884.dkr.ecr.eu-west-1.amazonaws.com/pytorch-training:2.3-cpu-py311"
SCRIPT = ["python3", "/opt/ml/processing/input/code/preprocess.py"]


def s3_input(name: str, local_path: str | None, **source: Any) -> ProcessingInputSpec:
    return ProcessingInputSpec(
        name, S3InputSpec(f"s3://data/{name}/", "S3Prefix", local_path=local_path, **source)
    )


def s3_output(name: str, local_path: str | None, **item: Any) -> ProcessingOutputSpec:
    return ProcessingOutputSpec(name, S3OutputSpec(f"s3://data/out/{name}", "EndOfJob", local_path), **item)


def spec(**changes: Any) -> ProcessingJobSpec:
    base = ProcessingJobSpec(
        name="job",
        role_arn="arn:aws:iam::000000000000:role/r",
        app=AppSpec(SKLEARN, SCRIPT),
        cluster=ClusterSpec(volume_size_gb=10),
        inputs=[
            s3_input("input", "/opt/ml/processing/input"),
            # Nested inside another input's folder, as the SDK's examples do: allowed.
            s3_input("code", "/opt/ml/processing/input/code/"),
        ],
        outputs=[s3_output("train", "/opt/ml/processing/train")],
    )
    return replace(base, **changes)


def test_a_scikit_learn_processing_job_is_accepted() -> None:
    assert check_spec(spec(), max_hosts=8).framework == Framework.SKLEARN
    assert check_spec(spec(app=AppSpec(PYTORCH, ["python3", "x.py"])), 8).framework == Framework.PYTORCH


@pytest.mark.parametrize(
    "path",
    [
        "/tmp/data",
        "/opt/ml/processing",
        "/opt/ml/processingdata",
        "opt/ml/processing/x",
        "/opt/ml/processing/../x",
    ],
)
def test_local_paths_must_be_folders_under_opt_ml_processing(path: str) -> None:
    with pytest.raises(
        ValidationError, match="must be an absolute path of a folder under /opt/ml/processing/"
    ):
        check_spec(spec(inputs=[s3_input("input", path)]), 8)
    with pytest.raises(ValidationError, match=f"ProcessingOutput 'train' LocalPath '{path}'"):
        check_spec(spec(outputs=[s3_output("train", path)]), 8)


def test_local_paths_are_normalised() -> None:
    assert container_path("/opt/ml/processing//input/./code/", "LocalPath") == "/opt/ml/processing/input/code"


def test_local_paths_must_be_unique_across_inputs_and_outputs() -> None:
    with pytest.raises(
        ValidationError, match="is used by both ProcessingInput 'input' and ProcessingOutput 'train'"
    ):
        check_spec(spec(outputs=[s3_output("train", "/opt/ml/processing/input/")]), 8)
    with pytest.raises(ValidationError, match="LocalPath '/opt/ml/processing/a'"):
        check_spec(
            spec(inputs=[s3_input("a", "/opt/ml/processing/a"), s3_input("b", "/opt/ml/processing/a/")]), 8
        )


def test_names_must_be_unique() -> None:
    with pytest.raises(ValidationError, match="ProcessingInput names must be unique; 'a'"):
        check_spec(
            spec(inputs=[s3_input("a", "/opt/ml/processing/a"), s3_input("a", "/opt/ml/processing/b")]), 8
        )
    with pytest.raises(ValidationError, match="ProcessingOutput names must be unique; 'o'"):
        check_spec(
            spec(outputs=[s3_output("o", "/opt/ml/processing/o1"), s3_output("o", "/opt/ml/processing/o2")]),
            8,
        )


def test_a_local_path_is_required_unless_the_application_manages_the_data() -> None:
    with pytest.raises(ValidationError, match=r"S3Input\.LocalPath is required unless AppManaged is true"):
        check_spec(spec(inputs=[s3_input("input", None)]), 8)
    with pytest.raises(ValidationError, match=r"S3Output\.LocalPath is required unless AppManaged is true"):
        check_spec(spec(outputs=[s3_output("train", None)]), 8)
    managed = spec(
        inputs=[replace(s3_input("input", None), app_managed=True)],
        outputs=[s3_output("train", None, app_managed=True)],
    )
    assert check_spec(managed, 8).framework == Framework.SKLEARN


def test_an_unknown_image_says_opensage_runs_without_docker_and_what_it_recognises() -> None:
    with pytest.raises(ValidationError) as raised:
        check_spec(spec(app=AppSpec("123456789012.dkr.ecr.us-east-1.amazonaws.com/my-own:latest", SCRIPT)), 8)
    message = raised.value.message
    assert (
        "without Docker" in message and "sagemaker-scikit-learn" in message and "pytorch-training" in message
    )


def test_a_framework_that_is_not_installed_is_refused_with_the_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        validation, "missing_framework", lambda framework: f"{framework.value} missing; pip install it"
    )
    with pytest.raises(ValidationError, match="pytorch missing; pip install it"):
        check_spec(spec(app=AppSpec(PYTORCH, SCRIPT)), 8)


def test_the_entrypoint_is_required() -> None:
    with pytest.raises(ValidationError, match="ContainerEntrypoint is required"):
        check_spec(spec(app=AppSpec(SKLEARN, None, ["--x"])), 8)


def test_more_instances_than_the_server_allows_is_a_limit() -> None:
    with pytest.raises(LimitExceededError, match="InstanceCount 9 exceeds"):
        check_spec(spec(cluster=ClusterSpec(volume_size_gb=10, instance_count=9)), 8)


def test_pipe_mode_dataset_definitions_and_feature_store_outputs_are_refused_not_ignored() -> None:
    with pytest.raises(UnsupportedOperationError, match="S3InputMode Pipe is not supported"):
        check_spec(spec(inputs=[s3_input("input", "/opt/ml/processing/input", input_mode="Pipe")]), 8)
    athena = ProcessingInputSpec("query", dataset_definition={"AthenaDatasetDefinition": {}})
    with pytest.raises(UnsupportedOperationError, match="DatasetDefinition"):
        check_spec(spec(inputs=[athena]), 8)
    features = ProcessingOutputSpec("features", feature_store_output={"FeatureGroupName": "g"})
    with pytest.raises(UnsupportedOperationError, match="FeatureStoreOutput is not supported"):
        check_spec(spec(outputs=[features]), 8)


def test_s3_uris_must_parse() -> None:
    bad = ProcessingInputSpec(
        "input", S3InputSpec("https://example.com/data", "S3Prefix", "/opt/ml/processing/i")
    )
    with pytest.raises(ValidationError, match=r"ProcessingInput 'input' S3Uri .* is not an S3 URI"):
        check_spec(spec(inputs=[bad]), 8)
