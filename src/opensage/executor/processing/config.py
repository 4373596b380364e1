"""The files SageMaker writes into a processing container's /opt/ml/config: the job, and the cluster.

``processingjobconfig.json`` is the job as DescribeProcessingJob would show its request,
with defaults filled in; ``resourceconfig.json`` names the instances (algo-1 ... algo-n)
and the one reading it, in the shape of SageMaker's training resource config. Processing
containers get no SM_* variables, so code that shards work reads these files.
"""

from __future__ import annotations

import json
from typing import Any

from opensage.executor.processing.layout import InstanceFolder
from opensage.executor.processing.spec import InputRun, OutputRun, ProcessingRun

GROUP_NAME = "homogeneousCluster"


def resource_config(hosts: list[str], current: str, instance_type: str) -> dict[str, Any]:
    return {
        "current_host": current,
        "current_instance_type": instance_type,
        "current_group_name": GROUP_NAME,
        "hosts": hosts,
        "instance_groups": [
            {"instance_group_name": GROUP_NAME, "instance_type": instance_type, "hosts": hosts}
        ],
        # Every instance is a process on this machine: they reach each other on loopback.
        "network_interface_name": "lo",
    }


def _input_config(item: InputRun) -> dict[str, Any]:
    source: dict[str, Any] = {
        "S3Uri": item.s3_uri,
        "S3DataType": item.s3_data_type,
        "S3InputMode": item.input_mode,
        "S3DataDistributionType": item.distribution,
        "S3CompressionType": item.compression,
    }
    if item.local_path is not None:
        source["LocalPath"] = item.local_path
    return {"InputName": item.name, "AppManaged": item.app_managed, "S3Input": source}


def _output_config(item: OutputRun) -> dict[str, Any]:
    target: dict[str, Any] = {"S3Uri": item.s3_uri, "S3UploadMode": item.upload_mode}
    if item.local_path is not None:
        target["LocalPath"] = item.local_path
    return {"OutputName": item.name, "AppManaged": item.app_managed, "S3Output": target}


def processing_job_config(run: ProcessingRun) -> dict[str, Any]:
    application: dict[str, Any] = {"ImageUri": run.image_uri, "ContainerEntrypoint": run.entrypoint}
    if run.arguments:
        application["ContainerArguments"] = run.arguments
    outputs: dict[str, Any] = {"Outputs": [_output_config(item) for item in run.outputs]}
    if run.output_kms_key_id is not None:
        outputs["KmsKeyId"] = run.output_kms_key_id
    config: dict[str, Any] = {
        "ProcessingJobArn": run.arn,
        "ProcessingJobName": run.name,
        "AppSpecification": application,
        "Environment": run.environment,
        "ProcessingInputs": [_input_config(item) for item in run.inputs],
        "ProcessingOutputConfig": outputs,
        "ProcessingResources": {
            "ClusterConfig": {
                "InstanceCount": run.instance_count,
                "InstanceType": run.instance_type,
                "VolumeSizeInGB": run.volume_size_gb,
            }
        },
        "RoleArn": run.role_arn,
        "StoppingCondition": {"MaxRuntimeInSeconds": run.max_runtime_seconds},
    }
    if run.network_config is not None:
        config["NetworkConfig"] = run.network_config
    return config


def write_config_files(folder: InstanceFolder, run: ProcessingRun, hosts: list[str]) -> None:
    folder.config_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "processingjobconfig.json": processing_job_config(run),
        "resourceconfig.json": resource_config(hosts, folder.host, run.instance_type),
    }
    for name, content in files.items():
        (folder.config_dir / name).write_text(json.dumps(content, indent=2))
