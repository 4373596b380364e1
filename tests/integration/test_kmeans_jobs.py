"""K-Means jobs through the server: File and Pipe mode, two ShardedByS3Key hosts merging their centres."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import numpy as np
from tests.support import ROLE_ARN, csv_bytes, ensure_bucket, wait_until_done
from tests.support import s3_channel as support_channel

from opensage.algorithms.kmeans.ndarray import load_matrices
from opensage.formats.recordio import write_dense

BUCKET = "kmeans-jobs"
IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/kmeans:1"


def s3_channel(name: str, prefix: str, content_type: str, distribution: str) -> dict[str, Any]:
    return support_channel(BUCKET, name, prefix, content_type, distribution)


def job_request(name: str, mode: str, instances: int) -> dict[str, Any]:
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE_ARN,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": mode},
        "HyperParameters": {
            "feature_dim": "6",
            "k": "5",
            "mini_batch_size": "200",
            "eval_metrics": '["msd", "ssd"]',
            "force_dense": "True",
        },
        "InputDataConfig": [
            s3_channel("train", "train", "application/x-recordio-protobuf", "ShardedByS3Key"),
            s3_channel("test", "test", "text/csv;label_size=0", "FullyReplicated"),
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": instances, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def trained(
    s3: Any, sagemaker: Any, name: str, mode: str, instances: int
) -> tuple[np.ndarray, dict[str, float]]:
    sagemaker.create_training_job(**job_request(name, mode, instances))
    described = wait_until_done(sagemaker, name)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    key = described["ModelArtifacts"]["S3ModelArtifacts"].split(f"s3://{BUCKET}/", 1)[1]
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())) as tar:
        member = tar.extractfile("model_algo-1")
        assert member is not None
        centers = load_matrices(member.read())[0]
    metrics = {item["MetricName"]: item["Value"] for item in described.get("FinalMetricDataList", [])}
    return centers, metrics


def ssd(rows: np.ndarray, centers: np.ndarray) -> float:
    differences = rows.astype(np.float64)[:, None, :] - centers.astype(np.float64)[None]
    return float((differences**2).sum(axis=2).min(axis=1).sum())


def test_file_pipe_and_sharded_jobs_find_the_same_clusters(s3_client: Any, sagemaker_client: Any) -> None:
    ensure_bucket(s3_client, BUCKET)
    random = np.random.default_rng(11)
    means = random.normal(scale=5, size=(5, 6))
    rows = (means[random.integers(0, 5, 2000)] + random.normal(size=(2000, 6))).astype(np.float32)
    test = (means[random.integers(0, 5, 300)] + random.normal(size=(300, 6))).astype(np.float32)
    for part, shard in enumerate(np.array_split(rows, 4)):
        buffer = io.BytesIO()
        write_dense(buffer, shard)
        s3_client.put_object(Bucket=BUCKET, Key=f"train/part-{part}.pbr", Body=buffer.getvalue())
    s3_client.put_object(Bucket=BUCKET, Key="test/test.csv", Body=csv_bytes(test))
    file_centers, file_metrics = trained(s3_client, sagemaker_client, "kmeans-file", "File", 1)
    pipe_centers, pipe_metrics = trained(s3_client, sagemaker_client, "kmeans-pipe", "Pipe", 1)
    sharded_centers, sharded_metrics = trained(s3_client, sagemaker_client, "kmeans-sharded", "Pipe", 2)
    assert file_centers.shape == pipe_centers.shape == sharded_centers.shape == (5, 6)
    # Pipe mode streams the files as one (its mini-batches cross file ends), two hosts summarise
    # their halves apart and the master reduces both: as good a clustering either way.
    single = ssd(rows, file_centers)
    assert ssd(rows, pipe_centers) <= 1.01 * single
    assert ssd(rows, sharded_centers) <= 1.01 * single
    runs = ((file_metrics, file_centers), (pipe_metrics, pipe_centers), (sharded_metrics, sharded_centers))
    for metrics, centers in runs:
        expected = ssd(test, centers)
        assert abs(metrics["test:ssd"] - expected) <= 1e-4 * expected
        assert abs(metrics["test:msd"] - expected / 300) <= 1e-4 * expected / 300
