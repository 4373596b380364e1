"""Checks on a CreateTransformJob request beyond what the API model states.

The wire adapter has checked required members, types, lengths, patterns and enums against
botocore's model. What is left is meaning — S3 URIs that parse, SageMaker's limits on
MaxPayloadInMB and MaxConcurrentTransforms, filters that parse and fit the input — and the
features opensage does not offer yet, refused with a message that says so.
"""

from __future__ import annotations

from opensage.errors import LimitExceededError, UnsupportedOperationError, ValidationError
from opensage.naming import parse_s3_uri
from opensage.runtime.transform.jsonpath import parse_json_path
from opensage.runtime.transform.processing import record_format
from opensage.services.hosting.models import Model
from opensage.services.transform.models import TransformJobSpec

# SageMaker's limits: a payload of at most 100 MB, and at most 100 MB in flight per instance.
MAX_PAYLOAD_MB = 100
MAX_MB_IN_FLIGHT = 100
# opensage's own: each concurrent transform is a thread and a connection in the job process.
MAX_CONCURRENT_TRANSFORMS = 32


def check_spec(spec: TransformJobSpec, model: Model, max_instances: int) -> None:
    if "DataCaptureConfig" in spec.extras:
        raise UnsupportedOperationError(
            "DataCaptureConfig (batch transform data capture) is not supported by opensage yet"
        )
    _check_input(spec)
    parse_s3_uri(spec.output.s3_output_path, "TransformOutput.S3OutputPath")
    _check_limits(spec)
    _check_data_processing(spec)
    _check_model(model)
    count = spec.resources.instance_count
    if count > max_instances:
        raise LimitExceededError(
            f"InstanceCount {count} exceeds this opensage server's limit of {max_instances} instances per "
            "job (OPENSAGE_MAX_HOSTS_PER_JOB)"
        )


def _check_input(spec: TransformJobSpec) -> None:
    source = spec.input
    if source.s3_data_type not in ("S3Prefix", "ManifestFile"):
        raise UnsupportedOperationError(
            f"S3DataType {source.s3_data_type} is not supported by opensage's batch transform yet; "
            "use S3Prefix or ManifestFile"
        )
    if source.split_type == "TFRecord":
        raise UnsupportedOperationError(
            "SplitType TFRecord is not supported by opensage yet; use None, Line or RecordIO"
        )
    parse_s3_uri(source.s3_uri, "TransformInput.DataSource.S3DataSource.S3Uri")


def _check_limits(spec: TransformJobSpec) -> None:
    payload = spec.effective_payload_mb
    if payload > MAX_PAYLOAD_MB:
        raise ValidationError(f"MaxPayloadInMB {payload} is more than the maximum of {MAX_PAYLOAD_MB} MB")
    if payload == 0 and spec.input.effective_split != "None":
        raise ValidationError(
            "MaxPayloadInMB 0 (no limit) is only allowed with SplitType None; records split from an "
            f"object are batched up to a limit (SplitType is {spec.input.effective_split})"
        )
    concurrency = spec.effective_concurrency
    if concurrency > MAX_CONCURRENT_TRANSFORMS:
        raise ValidationError(
            f"MaxConcurrentTransforms {concurrency} is more than opensage runs per instance "
            f"({MAX_CONCURRENT_TRANSFORMS}); use more instances (InstanceCount) instead"
        )
    if concurrency * payload > MAX_MB_IN_FLIGHT:
        raise ValidationError(
            f"MaxConcurrentTransforms times MaxPayloadInMB ({concurrency} x {payload} MB) must not exceed "
            f"{MAX_MB_IN_FLIGHT} MB"
        )


def _check_data_processing(spec: TransformJobSpec) -> None:
    processing = spec.effective_data_processing
    input_filter = parse_json_path(processing.input_filter, "DataProcessing.InputFilter")
    output_filter = parse_json_path(processing.output_filter, "DataProcessing.OutputFilter")
    per_record_input = processing.joins_input or not input_filter.is_root()
    if not per_record_input and output_filter.is_root():
        return
    split = spec.input.effective_split
    if split == "RecordIO":
        raise ValidationError(
            "DataProcessing (InputFilter, OutputFilter, JoinSource) works on CSV and JSON records, "
            "not with SplitType RecordIO"
        )
    if per_record_input:
        fmt = record_format(spec.input.content_type)
        if fmt is None:
            raise ValidationError(
                "InputFilter and JoinSource need TransformInput.ContentType text/csv, application/json or "
                f"application/jsonlines (it is {spec.input.content_type or 'not set'})"
            )
        if fmt == "text/csv" and split != "Line":
            raise ValidationError("InputFilter and JoinSource on CSV work row by row: set SplitType to Line")
    elif spec.output.accept is not None and record_format(spec.output.accept) is None:
        raise ValidationError(
            f"OutputFilter works on text/csv, application/json and application/jsonlines outputs, "
            f"not on Accept {spec.output.accept}"
        )


def _check_model(model: Model) -> None:
    if any(container.multi_model for container in model.containers):
        raise UnsupportedOperationError(
            f"Model {model.name} is a multi-model (Mode MultiModel) model, which batch transform "
            "does not run; create a single-model model for the transform job"
        )
