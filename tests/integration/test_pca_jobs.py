"""PCA jobs through the server: Pipe mode fed by the job host, and ShardedByS3Key hosts merging states."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import numpy as np
from tests.support import ROLE_ARN, ensure_bucket, wait_until_done

from opensage.formats.recordio import write_dense

BUCKET = "pca-jobs"
IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/pca:1"


def job_request(name: str, mode: str, instances: int) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE_ARN,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": mode},
        "HyperParameters": {"feature_dim": "5", "mini_batch_size": "40", "num_components": "3"},
        "InputDataConfig": [
            {
                "ChannelName": "train",
                "ContentType": "application/x-recordio-protobuf",
                "DataSource": {
                    "S3DataSource": {
                        "S3DataType": "S3Prefix",
                        "S3Uri": f"s3://{BUCKET}/train/",
                        "S3DataDistributionType": "ShardedByS3Key",
                    }
                },
            }
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": instances, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def trained_model(s3: Any, sagemaker: Any, name: str, mode: str, instances: int) -> dict[str, np.ndarray]:
    sagemaker.create_training_job(**job_request(name, mode, instances))
    described = wait_until_done(sagemaker, name)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    key = described["ModelArtifacts"]["S3ModelArtifacts"].split(f"s3://{BUCKET}/", 1)[1]
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())) as tar:
        member = tar.extractfile("pca-model.npz")
        assert member is not None
        return dict(np.load(io.BytesIO(member.read())))


def test_pipe_mode_and_sharded_hosts_train_the_file_mode_model(s3_client: Any, sagemaker_client: Any) -> None:
    ensure_bucket(s3_client, BUCKET)
    random = np.random.default_rng(5)
    rows = (random.normal(size=(300, 5)) @ random.normal(size=(5, 5))).astype(np.float32)
    for part, shard in enumerate(np.array_split(rows, 4)):
        buffer = io.BytesIO()
        write_dense(buffer, shard)
        s3_client.put_object(Bucket=BUCKET, Key=f"train/part-{part}.pbr", Body=buffer.getvalue())
    file_mode = trained_model(s3_client, sagemaker_client, "pca-file", "File", 1)
    pipe_mode = trained_model(s3_client, sagemaker_client, "pca-pipe", "Pipe", 1)
    sharded = trained_model(s3_client, sagemaker_client, "pca-sharded", "Pipe", 2)
    for model in (pipe_mode, sharded):
        np.testing.assert_allclose(model["explained_variance"], file_mode["explained_variance"], rtol=1e-9)
        np.testing.assert_allclose(model["components"], file_mode["components"], atol=1e-9)
    sharded_logs = sagemaker_client.describe_training_job(TrainingJobName="pca-sharded")
    assert sharded_logs["ResourceConfig"]["InstanceCount"] == 2
