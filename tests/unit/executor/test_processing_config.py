"""What a processing instance finds in /opt/ml/config, and where its /opt/ml paths are on this machine."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from opensage.executor.processing.config import processing_job_config, resource_config, write_config_files
from opensage.executor.processing.layout import InstanceFolder
from opensage.executor.processing.spec import InputRun, OutputRun, ProcessingRun

IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"


def run(tmp_path: Path, **changes: Any) -> ProcessingRun:
    base = ProcessingRun(
        name="prep",
        arn="arn:aws:sagemaker:us-east-1:000000000000:processing-job/prep",
        job_dir=str(tmp_path),
        objects_url="file:///nowhere",
        logs_root=str(tmp_path / "logs"),
        log_group="/aws/sagemaker/ProcessingJobs",
        created_epoch=1,
        role_arn="arn:aws:iam::000000000000:role/r",
        image_uri=IMAGE,
        framework="sklearn",
        entrypoint=["python3", "/opt/ml/processing/input/code/preprocess.py"],
        arguments=["--test-fraction", "0.25"],
        instance_count=2,
        instance_type="ml.m5.xlarge",
        volume_size_gb=30,
        max_runtime_seconds=3600,
        inputs=[
            InputRun("code", "s3://b/code/preprocess.py", "S3Prefix", "/opt/ml/processing/input/code"),
            InputRun(
                "data",
                "s3://b/data/",
                "S3Prefix",
                "/opt/ml/processing/input/data",
                distribution="ShardedByS3Key",
            ),
        ],
        outputs=[OutputRun("train", "s3://b/out/train", "/opt/ml/processing/train")],
        environment={"MODE": "split"},
    )
    return replace(base, **changes)


def test_the_job_config_is_the_request_as_describe_shows_it(tmp_path: Path) -> None:
    config = processing_job_config(run(tmp_path, network_config={"EnableNetworkIsolation": True}))
    assert config["ProcessingJobName"] == "prep"
    assert config["ProcessingJobArn"].endswith(":processing-job/prep")
    assert config["AppSpecification"] == {
        "ImageUri": IMAGE,
        "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/preprocess.py"],
        "ContainerArguments": ["--test-fraction", "0.25"],
    }
    assert config["ProcessingInputs"][1] == {
        "InputName": "data",
        "AppManaged": False,
        "S3Input": {
            "S3Uri": "s3://b/data/",
            "LocalPath": "/opt/ml/processing/input/data",
            "S3DataType": "S3Prefix",
            "S3InputMode": "File",
            "S3DataDistributionType": "ShardedByS3Key",
            "S3CompressionType": "None",
        },
    }
    assert config["ProcessingOutputConfig"] == {
        "Outputs": [
            {
                "OutputName": "train",
                "AppManaged": False,
                "S3Output": {
                    "S3Uri": "s3://b/out/train",
                    "S3UploadMode": "EndOfJob",
                    "LocalPath": "/opt/ml/processing/train",
                },
            }
        ]
    }
    assert config["ProcessingResources"] == {
        "ClusterConfig": {"InstanceCount": 2, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 30}
    }
    assert config["Environment"] == {"MODE": "split"} and config["RoleArn"].endswith(":role/r")
    assert config["StoppingCondition"] == {"MaxRuntimeInSeconds": 3600}
    assert config["NetworkConfig"] == {"EnableNetworkIsolation": True}


def test_the_resource_config_names_every_instance_and_the_current_one() -> None:
    config = resource_config(["algo-1", "algo-2"], "algo-2", "ml.m5.xlarge")
    assert config["current_host"] == "algo-2" and config["hosts"] == ["algo-1", "algo-2"]
    assert config["current_instance_type"] == "ml.m5.xlarge"
    assert config["instance_groups"] == [
        {
            "instance_group_name": "homogeneousCluster",
            "instance_type": "ml.m5.xlarge",
            "hosts": ["algo-1", "algo-2"],
        }
    ]


def test_each_instance_gets_both_files_in_its_own_config_folder(tmp_path: Path) -> None:
    job = run(tmp_path)
    for host in ("algo-1", "algo-2"):
        folder = InstanceFolder(host, tmp_path / host)
        write_config_files(folder, job, ["algo-1", "algo-2"])
    second = tmp_path / "algo-2" / "config"
    assert json.loads((second / "resourceconfig.json").read_text())["current_host"] == "algo-2"
    assert json.loads((second / "processingjobconfig.json").read_text())["ProcessingJobName"] == "prep"


def test_container_paths_map_into_the_instance_folder(tmp_path: Path) -> None:
    folder = InstanceFolder("algo-1", tmp_path / "algo-1")
    assert (
        folder.local("/opt/ml/processing/input/code") == tmp_path / "algo-1" / "processing" / "input" / "code"
    )
    assert folder.message_file == tmp_path / "algo-1" / "output" / "message"
    folder.create(["/opt/ml/processing/train"])
    assert (tmp_path / "algo-1" / "processing" / "train").is_dir() and folder.config_dir.is_dir()
    with pytest.raises(ValueError, match="leaves /opt/ml"):
        folder.local("/opt/ml/processing/../../etc")
