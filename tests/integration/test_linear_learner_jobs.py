"""Linear Learner jobs through the server: two ShardedByS3Key hosts in Pipe mode, averaging every epoch, train as one host."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import numpy as np
from tests.support import ROLE_ARN, csv_bytes, ensure_bucket, s3_channel, wait_until_done

BUCKET = "linear-learner-jobs"
IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/linear-learner:1"


def job_request(name: str, mode: str, instances: int) -> dict[str, Any]:
    def channel(channel_name: str, distribution: str) -> dict[str, Any]:
        return s3_channel(BUCKET, channel_name, channel_name, "text/csv", distribution)

    return {
        "TrainingJobName": name,
        "RoleArn": ROLE_ARN,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": mode},
        "HyperParameters": {
            "predictor_type": "binary_classifier",
            "mini_batch_size": "100",
            "epochs": "15",
            "num_models": "4",
        },
        "InputDataConfig": [channel("train", "ShardedByS3Key"), channel("validation", "FullyReplicated")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": instances, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def accuracy(s3: Any, sagemaker: Any, name: str, mode: str, instances: int, rows: np.ndarray) -> float:
    sagemaker.create_training_job(**job_request(name, mode, instances))
    described = wait_until_done(sagemaker, name)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert any(
        m["MetricName"] == "validation:binary_classification_accuracy"
        for m in described["FinalMetricDataList"]
    )
    key = described["ModelArtifacts"]["S3ModelArtifacts"].split(f"s3://{BUCKET}/", 1)[1]
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())) as tar:
        member = tar.extractfile("linear-learner-model.npz")
        assert member is not None
        model = np.load(io.BytesIO(member.read()))
    raw = rows[:, 1:].astype(np.float64) @ model["weights"][:, 0] + model["bias"][0]
    predicted = 1 / (1 + np.exp(-raw)) >= float(model["threshold"])
    return float(np.mean(predicted == (rows[:, 0] == 1)))


def test_sharded_hosts_train_as_well_as_one(s3_client: Any, sagemaker_client: Any) -> None:
    ensure_bucket(s3_client, BUCKET)
    random = np.random.default_rng(8)
    features = random.normal(size=(3000, 5)).astype(np.float32)
    # Labels with logistic noise (the best possible accuracy is about 81 %): enough rows that
    # 15 epochs converge on one host and on two. On too few rows to converge, two hosts, each
    # taking half the steps an epoch, lag one (as data-parallel training does), however often
    # they average: 3 points on 1200 separable rows, as much with averaging every epoch as once.
    logits = features @ np.array([2.0, -1.0, 0.5, 0.0, 1.0]) + random.logistic(size=3000)
    rows = np.column_stack([(logits > 0).astype(np.float32), features])
    for part, shard in enumerate(np.array_split(rows[:2000], 4)):
        s3_client.put_object(Bucket=BUCKET, Key=f"train/part-{part}.csv", Body=csv_bytes(shard))
    s3_client.put_object(Bucket=BUCKET, Key="validation/data.csv", Body=csv_bytes(rows[2000:]))
    one = accuracy(s3_client, sagemaker_client, "ll-one", "File", 1, rows[2000:])
    two = accuracy(s3_client, sagemaker_client, "ll-sharded", "Pipe", 2, rows[2000:])
    assert one > 0.78 and two > 0.78
    # The hosts merge their scaler samples and average their models after every epoch.
    assert abs(one - two) <= 0.005
