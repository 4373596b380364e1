"""SageMaker's processing-job operations on the wire: requests to typed specs, jobs to responses."""

from __future__ import annotations

from typing import Any

from opensage.api.json_protocol import JsonHandler
from opensage.api.sagemaker.listing import list_query
from opensage.api.sagemaker.shapes import tag_map, without_none
from opensage.services.processing.models import (
    AppSpec,
    ClusterSpec,
    ProcessingInputSpec,
    ProcessingJob,
    ProcessingJobSpec,
    ProcessingOutputSpec,
    S3InputSpec,
    S3OutputSpec,
)
from opensage.services.processing.service import ProcessingService

# Members the service acts on; everything else in a request is kept and echoed by Describe.
_HANDLED = {
    "ProcessingJobName",
    "RoleArn",
    "AppSpecification",
    "ProcessingResources",
    "ProcessingInputs",
    "ProcessingOutputConfig",
    "StoppingCondition",
    "Environment",
    "Tags",
}
_HANDLED_CLUSTER = {"InstanceCount", "InstanceType", "VolumeSizeInGB"}


def parse_create(params: dict[str, Any]) -> ProcessingJobSpec:
    app = params["AppSpecification"]
    cluster = params["ProcessingResources"]["ClusterConfig"]
    output_config = params.get("ProcessingOutputConfig")
    stopping = params.get("StoppingCondition") or {}
    return ProcessingJobSpec(
        name=params["ProcessingJobName"],
        role_arn=params["RoleArn"],
        app=AppSpec(
            image_uri=app["ImageUri"],
            container_entrypoint=app.get("ContainerEntrypoint"),
            container_arguments=app.get("ContainerArguments"),
        ),
        cluster=ClusterSpec(
            volume_size_gb=cluster["VolumeSizeInGB"],
            instance_count=cluster.get("InstanceCount", 1),
            instance_type=cluster.get("InstanceType"),
            extras={key: value for key, value in cluster.items() if key not in _HANDLED_CLUSTER},
        ),
        inputs=[_parse_input(item) for item in params.get("ProcessingInputs", [])],
        outputs=[_parse_output(item) for item in (output_config or {}).get("Outputs", [])],
        has_output_config=output_config is not None,
        output_kms_key_id=(output_config or {}).get("KmsKeyId"),
        max_runtime_seconds=stopping.get("MaxRuntimeInSeconds"),
        environment=dict(params.get("Environment") or {}),
        tags=tag_map(params),
        extras={key: value for key, value in params.items() if key not in _HANDLED},
    )


def _parse_input(raw: dict[str, Any]) -> ProcessingInputSpec:
    source = raw.get("S3Input")
    return ProcessingInputSpec(
        name=raw["InputName"],
        s3=None
        if source is None
        else S3InputSpec(
            s3_uri=source["S3Uri"],
            s3_data_type=source["S3DataType"],
            local_path=source.get("LocalPath"),
            input_mode=source.get("S3InputMode"),
            distribution=source.get("S3DataDistributionType"),
            compression=source.get("S3CompressionType"),
        ),
        app_managed=raw.get("AppManaged"),
        dataset_definition=raw.get("DatasetDefinition"),
    )


def _parse_output(raw: dict[str, Any]) -> ProcessingOutputSpec:
    target = raw.get("S3Output")
    return ProcessingOutputSpec(
        name=raw["OutputName"],
        s3=None
        if target is None
        else S3OutputSpec(
            s3_uri=target["S3Uri"],
            upload_mode=target["S3UploadMode"],
            local_path=target.get("LocalPath"),
        ),
        app_managed=raw.get("AppManaged"),
        feature_store_output=raw.get("FeatureStoreOutput"),
    )


def render_job(job: ProcessingJob) -> dict[str, Any]:
    spec = job.spec
    response: dict[str, Any] = dict(spec.extras)
    response.update(
        {
            "ProcessingJobName": spec.name,
            "ProcessingJobArn": job.arn,
            "ProcessingJobStatus": job.status.value,
            "ExitMessage": job.exit_message,
            "FailureReason": job.failure_reason,
            "ProcessingInputs": [_render_input(item) for item in spec.inputs] or None,
            "ProcessingResources": {
                "ClusterConfig": {
                    **spec.cluster.extras,
                    **without_none(
                        {
                            "InstanceCount": spec.cluster.instance_count,
                            "InstanceType": spec.cluster.instance_type,
                            "VolumeSizeInGB": spec.cluster.volume_size_gb,
                        }
                    ),
                }
            },
            "StoppingCondition": {"MaxRuntimeInSeconds": spec.effective_max_runtime},
            "AppSpecification": without_none(
                {
                    "ImageUri": spec.app.image_uri,
                    "ContainerEntrypoint": spec.app.container_entrypoint,
                    "ContainerArguments": spec.app.container_arguments,
                }
            ),
            "Environment": spec.environment or None,
            "RoleArn": spec.role_arn,
            "CreationTime": job.creation_time,
            "ProcessingStartTime": job.start_time,
            "ProcessingEndTime": job.end_time,
            "LastModifiedTime": job.last_modified_time,
        }
    )
    if spec.has_output_config:
        response["ProcessingOutputConfig"] = without_none(
            {
                "Outputs": [_render_output(item) for item in spec.outputs],
                "KmsKeyId": spec.output_kms_key_id,
            }
        )
    return without_none(response)


def _render_input(item: ProcessingInputSpec) -> dict[str, Any]:
    source = item.s3
    rendered: dict[str, Any] = {"InputName": item.name, "AppManaged": bool(item.app_managed)}
    if source is not None:
        rendered["S3Input"] = without_none(
            {
                "S3Uri": source.s3_uri,
                "LocalPath": source.local_path,
                "S3DataType": source.s3_data_type,
                "S3InputMode": source.input_mode or "File",
                "S3DataDistributionType": source.distribution or "FullyReplicated",
                "S3CompressionType": source.compression or "None",
            }
        )
    return rendered


def _render_output(item: ProcessingOutputSpec) -> dict[str, Any]:
    target = item.s3
    rendered: dict[str, Any] = {"OutputName": item.name, "AppManaged": bool(item.app_managed)}
    if target is not None:
        rendered["S3Output"] = without_none(
            {"S3Uri": target.s3_uri, "LocalPath": target.local_path, "S3UploadMode": target.upload_mode}
        )
    return rendered


def render_summary(job: ProcessingJob) -> dict[str, Any]:
    return without_none(
        {
            "ProcessingJobName": job.name,
            "ProcessingJobArn": job.arn,
            "CreationTime": job.creation_time,
            "ProcessingEndTime": job.end_time,
            "LastModifiedTime": job.last_modified_time,
            "ProcessingJobStatus": job.status.value,
            "FailureReason": job.failure_reason,
            "ExitMessage": job.exit_message,
        }
    )


def build_handlers(service: ProcessingService) -> dict[str, JsonHandler]:
    def create(params: dict[str, Any]) -> dict[str, Any]:
        return {"ProcessingJobArn": service.create(parse_create(params)).arn}

    def describe(params: dict[str, Any]) -> dict[str, Any]:
        return render_job(service.describe(params["ProcessingJobName"]))

    def list_jobs(params: dict[str, Any]) -> dict[str, Any]:
        jobs, token = service.list_jobs(list_query(params))
        return without_none(
            {"ProcessingJobSummaries": [render_summary(job) for job in jobs], "NextToken": token}
        )

    def stop(params: dict[str, Any]) -> dict[str, Any]:
        service.stop(params["ProcessingJobName"])
        return {}

    return {
        "CreateProcessingJob": create,
        "DescribeProcessingJob": describe,
        "ListProcessingJobs": list_jobs,
        "StopProcessingJob": stop,
    }
