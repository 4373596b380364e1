"""SageMaker's training-job operations on the wire: requests to typed specs, jobs to responses."""

from __future__ import annotations

from typing import Any

from opensage.api.json_protocol import JsonHandler
from opensage.api.sagemaker.listing import list_query
from opensage.errors import UnsupportedOperationError
from opensage.services.training.models import (
    AlgorithmSpec,
    Channel,
    CheckpointSpec,
    MetricDefinition,
    OutputConfig,
    ResourceSpec,
    S3DataSource,
    StoppingSpec,
    TrainingJob,
    TrainingJobSpec,
)
from opensage.services.training.service import TrainingService

# Members the service acts on; everything else in a request is kept and echoed by Describe.
_HANDLED = {
    "TrainingJobName",
    "RoleArn",
    "AlgorithmSpecification",
    "HyperParameters",
    "InputDataConfig",
    "OutputDataConfig",
    "ResourceConfig",
    "StoppingCondition",
    "Environment",
    "CheckpointConfig",
    "Tags",
}
# Echoed with SageMaker's defaults when the request left them out.
_FLAG_DEFAULTS = {
    "EnableNetworkIsolation": False,
    "EnableInterContainerTrafficEncryption": False,
    "EnableManagedSpotTraining": False,
}


def parse_create(params: dict[str, Any]) -> TrainingJobSpec:
    algorithm = params.get("AlgorithmSpecification") or {}
    resources = params.get("ResourceConfig") or {}
    stopping = params.get("StoppingCondition") or {}
    output = params["OutputDataConfig"]
    checkpoint = params.get("CheckpointConfig")
    return TrainingJobSpec(
        name=params["TrainingJobName"],
        role_arn=params["RoleArn"],
        algorithm=AlgorithmSpec(
            training_input_mode=algorithm.get("TrainingInputMode", "File"),
            training_image=algorithm.get("TrainingImage"),
            algorithm_name=algorithm.get("AlgorithmName"),
            metric_definitions=[
                MetricDefinition(d["Name"], d["Regex"]) for d in algorithm.get("MetricDefinitions", [])
            ],
            container_entrypoint=algorithm.get("ContainerEntrypoint"),
            container_arguments=algorithm.get("ContainerArguments"),
            enable_metrics_time_series=algorithm.get("EnableSageMakerMetricsTimeSeries"),
        ),
        output=OutputConfig(
            s3_output_path=output["S3OutputPath"],
            kms_key_id=output.get("KmsKeyId"),
            compression_type=output.get("CompressionType"),
        ),
        resources=ResourceSpec(
            instance_type=resources.get("InstanceType"),
            instance_count=resources.get("InstanceCount", 1),
            volume_size_gb=resources.get("VolumeSizeInGB", 30),
            keep_alive_seconds=resources.get("KeepAlivePeriodInSeconds"),
        ),
        stopping=StoppingSpec(
            **{
                key: value
                for key, value in (
                    ("max_runtime_seconds", stopping.get("MaxRuntimeInSeconds")),
                    ("max_wait_seconds", stopping.get("MaxWaitTimeInSeconds")),
                )
                if value is not None
            }
        ),
        hyperparameters=dict(params.get("HyperParameters") or {}),
        channels=[_parse_channel(channel) for channel in params.get("InputDataConfig", [])],
        environment=dict(params.get("Environment") or {}),
        checkpoint=CheckpointSpec(checkpoint["S3Uri"], checkpoint.get("LocalPath")) if checkpoint else None,
        tags={tag["Key"]: tag["Value"] for tag in params.get("Tags", [])},
        extras={key: value for key, value in params.items() if key not in _HANDLED},
    )


def _parse_channel(channel: dict[str, Any]) -> Channel:
    source = channel["DataSource"].get("S3DataSource")
    if source is None:
        kinds = ", ".join(sorted(channel["DataSource"])) or "no data source"
        raise UnsupportedOperationError(
            f"Channel '{channel['ChannelName']}': {kinds} is not supported by opensage; use an S3DataSource"
        )
    return Channel(
        name=channel["ChannelName"],
        data_source=S3DataSource(
            s3_data_type=source["S3DataType"],
            s3_uri=source["S3Uri"],
            distribution=source.get("S3DataDistributionType"),
            attribute_names=source.get("AttributeNames"),
        ),
        content_type=channel.get("ContentType"),
        compression=channel.get("CompressionType"),
        record_wrapper=channel.get("RecordWrapperType"),
        input_mode=channel.get("InputMode"),
    )


def render_job(job: TrainingJob) -> dict[str, Any]:
    spec = job.spec
    response: dict[str, Any] = {**_FLAG_DEFAULTS, **spec.extras}
    response.update(
        {
            "TrainingJobName": spec.name,
            "TrainingJobArn": job.arn,
            "TrainingJobStatus": job.status.value,
            "SecondaryStatus": job.secondary_status,
            "FailureReason": job.failure_reason,
            "HyperParameters": spec.hyperparameters,
            "AlgorithmSpecification": _render_algorithm(spec.algorithm),
            "RoleArn": spec.role_arn,
            "InputDataConfig": [
                _render_channel(channel, spec.algorithm.training_input_mode) for channel in spec.channels
            ],
            "OutputDataConfig": _without_none(
                {
                    "S3OutputPath": spec.output.s3_output_path,
                    "KmsKeyId": spec.output.kms_key_id,
                    "CompressionType": spec.output.compression_type or "GZIP",
                }
            ),
            "ResourceConfig": _without_none(
                {
                    "InstanceType": spec.resources.instance_type,
                    "InstanceCount": spec.resources.instance_count,
                    "VolumeSizeInGB": spec.resources.volume_size_gb,
                    "KeepAlivePeriodInSeconds": spec.resources.keep_alive_seconds,
                }
            ),
            "StoppingCondition": _without_none(
                {
                    "MaxRuntimeInSeconds": spec.stopping.max_runtime_seconds,
                    "MaxWaitTimeInSeconds": spec.stopping.max_wait_seconds,
                }
            ),
            "CreationTime": job.creation_time,
            "TrainingStartTime": job.training_start_time,
            "TrainingEndTime": job.training_end_time,
            "LastModifiedTime": job.last_modified_time,
            "SecondaryStatusTransitions": [
                _without_none(
                    {
                        "Status": t.status,
                        "StartTime": t.start_time,
                        "EndTime": t.end_time,
                        "StatusMessage": t.message,
                    }
                )
                for t in job.transitions
            ],
            "FinalMetricDataList": [
                {"MetricName": m.name, "Value": m.value, "Timestamp": m.timestamp} for m in job.final_metrics
            ],
            "TrainingTimeInSeconds": job.training_seconds,
            "BillableTimeInSeconds": job.training_seconds,
        }
    )
    if job.model_artifacts:
        response["ModelArtifacts"] = {"S3ModelArtifacts": job.model_artifacts}
    if spec.environment:
        response["Environment"] = spec.environment
    if spec.checkpoint:
        response["CheckpointConfig"] = _without_none(
            {
                "S3Uri": spec.checkpoint.s3_uri,
                "LocalPath": spec.checkpoint.local_path or "/opt/ml/checkpoints",
            }
        )
    return _without_none(response)


def render_summary(job: TrainingJob) -> dict[str, Any]:
    return _without_none(
        {
            "TrainingJobName": job.name,
            "TrainingJobArn": job.arn,
            "CreationTime": job.creation_time,
            "TrainingEndTime": job.training_end_time,
            "LastModifiedTime": job.last_modified_time,
            "TrainingJobStatus": job.status.value,
            "SecondaryStatus": job.secondary_status,
        }
    )


def _render_algorithm(algorithm: AlgorithmSpec) -> dict[str, Any]:
    return _without_none(
        {
            "TrainingImage": algorithm.training_image,
            "AlgorithmName": algorithm.algorithm_name,
            "TrainingInputMode": algorithm.training_input_mode,
            "MetricDefinitions": [{"Name": d.name, "Regex": d.regex} for d in algorithm.metric_definitions]
            or None,
            "ContainerEntrypoint": algorithm.container_entrypoint,
            "ContainerArguments": algorithm.container_arguments,
            "EnableSageMakerMetricsTimeSeries": algorithm.enable_metrics_time_series,
        }
    )


def _render_channel(channel: Channel, default_mode: str) -> dict[str, Any]:
    source = channel.data_source
    return _without_none(
        {
            "ChannelName": channel.name,
            "DataSource": {
                "S3DataSource": _without_none(
                    {
                        "S3DataType": source.s3_data_type,
                        "S3Uri": source.s3_uri,
                        "S3DataDistributionType": source.distribution or "FullyReplicated",
                        "AttributeNames": source.attribute_names,
                    }
                )
            },
            "ContentType": channel.content_type,
            "CompressionType": channel.compression or "None",
            "RecordWrapperType": channel.record_wrapper or "None",
            "InputMode": channel.input_mode,
        }
    )


def _without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def build_handlers(service: TrainingService) -> dict[str, JsonHandler]:
    def create(params: dict[str, Any]) -> dict[str, Any]:
        return {"TrainingJobArn": service.create(parse_create(params)).arn}

    def describe(params: dict[str, Any]) -> dict[str, Any]:
        return render_job(service.describe(params["TrainingJobName"]))

    def list_jobs(params: dict[str, Any]) -> dict[str, Any]:
        if params.get("WarmPoolStatusEquals") or params.get("TrainingPlanArnEquals"):
            # Local jobs have no warm pools or training plans, so nothing matches these filters.
            return {"TrainingJobSummaries": []}
        jobs, token = service.list_jobs(list_query(params))
        return _without_none(
            {"TrainingJobSummaries": [render_summary(job) for job in jobs], "NextToken": token}
        )

    def stop(params: dict[str, Any]) -> dict[str, Any]:
        service.stop(params["TrainingJobName"])
        return {}

    return {
        "CreateTrainingJob": create,
        "DescribeTrainingJob": describe,
        "ListTrainingJobs": list_jobs,
        "StopTrainingJob": stop,
    }
