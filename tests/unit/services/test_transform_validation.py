"""What CreateTransformJob refuses beyond the API model, and how it says so."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from opensage.errors import LimitExceededError, UnsupportedOperationError, ValidationError
from opensage.services.hosting.models import ContainerDefinition, Model, ModelDefinition
from opensage.services.transform.models import (
    DataProcessingSpec,
    TransformInputSpec,
    TransformJobSpec,
    TransformOutputSpec,
    TransformResourcesSpec,
)
from opensage.services.transform.validation import check_spec

MODEL = Model(
    ModelDefinition("m", [ContainerDefinition("xgboost", "image", "s3://b/model.tar.gz")]),
    "arn:aws:sagemaker:us-east-1:000000000000:model/m",
    datetime(2024, 1, 1, tzinfo=UTC),
)


def spec(**changes: object) -> TransformJobSpec:
    base = TransformJobSpec(
        name="job",
        model_name="m",
        input=TransformInputSpec("S3Prefix", "s3://b/in/", content_type="text/csv", split_type="Line"),
        output=TransformOutputSpec("s3://b/out/"),
        resources=TransformResourcesSpec("ml.m5.large", 1),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_a_plain_request_passes_with_sagemakers_defaults() -> None:
    check_spec(spec(), MODEL, 8)
    assert spec().effective_payload_mb == 6
    assert spec().effective_concurrency == 1
    assert spec(max_concurrent_transforms=0).effective_concurrency == 1
    assert spec().multi_record and not spec(batch_strategy="SingleRecord").multi_record


@pytest.mark.parametrize(
    ("changes", "error", "words"),
    [
        ({"max_payload_mb": 101}, ValidationError, "more than the maximum of 100 MB"),
        ({"max_payload_mb": 0}, ValidationError, "only allowed with SplitType None"),
        ({"max_concurrent_transforms": 33}, ValidationError, "use more instances"),
        ({"max_concurrent_transforms": 20, "max_payload_mb": 6}, ValidationError, "must not exceed 100 MB"),
        (
            {"input": TransformInputSpec("AugmentedManifestFile", "s3://b/m")},
            UnsupportedOperationError,
            "use S3Prefix or ManifestFile",
        ),
        (
            {"input": TransformInputSpec("S3Prefix", "s3://b/in/", split_type="TFRecord")},
            UnsupportedOperationError,
            "TFRecord",
        ),
        ({"input": TransformInputSpec("S3Prefix", "https://b/in/")}, ValidationError, "is not an S3 URI"),
        ({"output": TransformOutputSpec("b/out")}, ValidationError, "S3OutputPath"),
        ({"resources": TransformResourcesSpec("ml.m5.large", 9)}, LimitExceededError, "limit of 8"),
        ({"extras": {"DataCaptureConfig": {}}}, UnsupportedOperationError, "DataCaptureConfig"),
    ],
)
def test_limits_and_unsupported_features_are_refused(
    changes: dict[str, object], error: type[Exception], words: str
) -> None:
    with pytest.raises(error, match=words):
        check_spec(spec(**changes), MODEL, 8)


def test_no_payload_limit_is_allowed_for_whole_objects() -> None:
    whole = spec(
        max_payload_mb=0, input=TransformInputSpec("S3Prefix", "s3://b/in/"), max_concurrent_transforms=4
    )
    check_spec(whole, MODEL, 8)


@pytest.mark.parametrize(
    ("processing", "source", "words"),
    [
        (DataProcessingSpec(input_filter="$[1:"), None, "DataProcessing.InputFilter"),
        (DataProcessingSpec(output_filter="features"), None, "DataProcessing.OutputFilter"),
        (
            DataProcessingSpec(join_source="Input"),
            TransformInputSpec(
                "S3Prefix", "s3://b/in/", content_type="application/x-recordio-protobuf", split_type="Line"
            ),
            "need TransformInput.ContentType text/csv",
        ),
        (
            DataProcessingSpec(input_filter="$[1:]"),
            TransformInputSpec("S3Prefix", "s3://b/in/", content_type="text/csv"),
            "set SplitType to Line",
        ),
        (
            DataProcessingSpec(join_source="Input"),
            TransformInputSpec("S3Prefix", "s3://b/in/", content_type="text/csv", split_type="RecordIO"),
            "not with SplitType RecordIO",
        ),
    ],
)
def test_data_processing_must_parse_and_fit_the_input(
    processing: DataProcessingSpec, source: TransformInputSpec | None, words: str
) -> None:
    changes: dict[str, object] = {"data_processing": processing}
    if source is not None:
        changes["input"] = source
    with pytest.raises(ValidationError, match=words):
        check_spec(spec(**changes), MODEL, 8)


def test_an_output_filter_needs_an_accept_it_can_read() -> None:
    filtered = spec(data_processing=DataProcessingSpec(output_filter="$[0]"))
    check_spec(filtered, MODEL, 8)
    with pytest.raises(ValidationError, match="not on Accept application/x-recordio-protobuf"):
        check_spec(
            replace(
                filtered, output=TransformOutputSpec("s3://b/out/", accept="application/x-recordio-protobuf")
            ),
            MODEL,
            8,
        )


def test_json_lines_with_a_join_is_accepted() -> None:
    source = TransformInputSpec(
        "S3Prefix", "s3://b/in/", content_type="application/jsonlines", split_type="Line"
    )
    check_spec(spec(input=source, data_processing=DataProcessingSpec("$.features", "$", "Input")), MODEL, 8)


def test_multi_model_models_are_not_run_by_batch_transform() -> None:
    multi = Model(
        ModelDefinition("mm", [ContainerDefinition("xgboost", "image", "s3://b/models/", mode="MultiModel")]),
        "arn",
        datetime(2024, 1, 1, tzinfo=UTC),
    )
    with pytest.raises(UnsupportedOperationError, match="multi-model"):
        check_spec(spec(), multi, 8)
