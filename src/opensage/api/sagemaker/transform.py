"""SageMaker's transform-job operations on the wire: requests to typed specs, jobs to responses."""

from __future__ import annotations

from typing import Any

from opensage.api.json_protocol import JsonHandler
from opensage.api.sagemaker.listing import list_query
from opensage.api.sagemaker.shapes import tag_map, without_none
from opensage.services.transform.models import (
    DataProcessingSpec,
    ModelClientSpec,
    TransformInputSpec,
    TransformJob,
    TransformJobSpec,
    TransformOutputSpec,
    TransformResourcesSpec,
)
from opensage.services.transform.service import TransformService

# Members the service acts on; everything else in a request is kept and echoed by Describe.
_HANDLED = {
    "TransformJobName",
    "ModelName",
    "MaxConcurrentTransforms",
    "ModelClientConfig",
    "MaxPayloadInMB",
    "BatchStrategy",
    "Environment",
    "TransformInput",
    "TransformOutput",
    "TransformResources",
    "DataProcessing",
    "Tags",
}
_HANDLED_RESOURCES = {"InstanceType", "InstanceCount"}


def parse_create(params: dict[str, Any]) -> TransformJobSpec:
    source = params["TransformInput"]
    s3 = source["DataSource"]["S3DataSource"]
    output = params["TransformOutput"]
    resources = params["TransformResources"]
    processing = params.get("DataProcessing")
    client = params.get("ModelClientConfig")
    return TransformJobSpec(
        name=params["TransformJobName"],
        model_name=params["ModelName"],
        input=TransformInputSpec(
            s3_data_type=s3["S3DataType"],
            s3_uri=s3["S3Uri"],
            content_type=source.get("ContentType"),
            compression=source.get("CompressionType"),
            split_type=source.get("SplitType"),
        ),
        output=TransformOutputSpec(
            s3_output_path=output["S3OutputPath"],
            accept=output.get("Accept"),
            assemble_with=output.get("AssembleWith"),
            kms_key_id=output.get("KmsKeyId"),
        ),
        resources=TransformResourcesSpec(
            instance_type=resources["InstanceType"],
            instance_count=resources["InstanceCount"],
            extras={key: value for key, value in resources.items() if key not in _HANDLED_RESOURCES},
        ),
        max_concurrent_transforms=params.get("MaxConcurrentTransforms"),
        max_payload_mb=params.get("MaxPayloadInMB"),
        batch_strategy=params.get("BatchStrategy"),
        environment=dict(params.get("Environment") or {}),
        data_processing=None if processing is None else _parse_processing(processing),
        model_client=None if client is None else _parse_client(client),
        tags=tag_map(params),
        extras={key: value for key, value in params.items() if key not in _HANDLED},
    )


def _parse_processing(raw: dict[str, Any]) -> DataProcessingSpec:
    # An empty filter is what a console leaves when nothing is typed: it means the default, $.
    return DataProcessingSpec(
        input_filter=raw.get("InputFilter") or "$",
        output_filter=raw.get("OutputFilter") or "$",
        join_source=raw.get("JoinSource") or "None",
    )


def _parse_client(raw: dict[str, Any]) -> ModelClientSpec:
    defaults = ModelClientSpec()
    return ModelClientSpec(
        invocations_timeout_seconds=raw.get(
            "InvocationsTimeoutInSeconds", defaults.invocations_timeout_seconds
        ),
        invocations_max_retries=raw.get("InvocationsMaxRetries", defaults.invocations_max_retries),
    )


def render_job(job: TransformJob) -> dict[str, Any]:
    spec = job.spec
    response: dict[str, Any] = dict(spec.extras)
    response.update(
        {
            "TransformJobName": spec.name,
            "TransformJobArn": job.arn,
            "TransformJobStatus": job.status.value,
            "FailureReason": job.failure_reason,
            "ModelName": spec.model_name,
            "MaxConcurrentTransforms": spec.effective_concurrency,
            "MaxPayloadInMB": spec.effective_payload_mb,
            "BatchStrategy": _batch_strategy(spec),
            "Environment": spec.environment or None,
            "TransformInput": _render_input(spec.input),
            "TransformOutput": without_none(
                {
                    "S3OutputPath": spec.output.s3_output_path,
                    "Accept": spec.output.accept,
                    "AssembleWith": spec.output.assemble_with or "None",
                    "KmsKeyId": spec.output.kms_key_id,
                }
            ),
            "TransformResources": {
                **spec.resources.extras,
                "InstanceType": spec.resources.instance_type,
                "InstanceCount": spec.resources.instance_count,
            },
            "DataProcessing": _render_processing(spec.effective_data_processing),
            "CreationTime": job.creation_time,
            "TransformStartTime": job.start_time,
            "TransformEndTime": job.end_time,
        }
    )
    if spec.model_client is not None:
        response["ModelClientConfig"] = {
            "InvocationsTimeoutInSeconds": spec.model_client.invocations_timeout_seconds,
            "InvocationsMaxRetries": spec.model_client.invocations_max_retries,
        }
    return without_none(response)


def _batch_strategy(spec: TransformJobSpec) -> str | None:
    if spec.batch_strategy is not None or spec.input.effective_split == "None":
        return spec.batch_strategy
    # Records split from the input are batched unless SingleRecord was asked for: say so.
    return "MultiRecord"


def _render_input(source: TransformInputSpec) -> dict[str, Any]:
    return without_none(
        {
            "DataSource": {"S3DataSource": {"S3DataType": source.s3_data_type, "S3Uri": source.s3_uri}},
            "ContentType": source.content_type,
            "CompressionType": source.compression or "None",
            "SplitType": source.effective_split,
        }
    )


def _render_processing(processing: DataProcessingSpec) -> dict[str, Any]:
    return {
        "InputFilter": processing.input_filter,
        "OutputFilter": processing.output_filter,
        "JoinSource": processing.join_source,
    }


def render_summary(job: TransformJob) -> dict[str, Any]:
    return without_none(
        {
            "TransformJobName": job.name,
            "TransformJobArn": job.arn,
            "CreationTime": job.creation_time,
            "TransformEndTime": job.end_time,
            "LastModifiedTime": job.last_modified_time,
            "TransformJobStatus": job.status.value,
            "FailureReason": job.failure_reason,
        }
    )


def build_handlers(service: TransformService) -> dict[str, JsonHandler]:
    def create(params: dict[str, Any]) -> dict[str, Any]:
        return {"TransformJobArn": service.create(parse_create(params)).arn}

    def describe(params: dict[str, Any]) -> dict[str, Any]:
        return render_job(service.describe(params["TransformJobName"]))

    def list_jobs(params: dict[str, Any]) -> dict[str, Any]:
        jobs, token = service.list_jobs(list_query(params))
        return without_none(
            {"TransformJobSummaries": [render_summary(job) for job in jobs], "NextToken": token}
        )

    def stop(params: dict[str, Any]) -> dict[str, Any]:
        service.stop(params["TransformJobName"])
        return {}

    return {
        "CreateTransformJob": create,
        "DescribeTransformJob": describe,
        "ListTransformJobs": list_jobs,
        "StopTransformJob": stop,
    }
