"""Random Cut Forest jobs through the server: test-channel metrics, Pipe mode, and sharded hosts merging samples."""

from __future__ import annotations

import io
import tarfile
from typing import Any

import numpy as np
from tests.support import ROLE_ARN, csv_bytes, ensure_bucket, wait_until_done
from tests.support import s3_channel as support_channel

from opensage.algorithms.rcf.forest import Forest, score_rows
from opensage.formats.recordio import write_dense

BUCKET = "rcf-jobs"
IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/randomcutforest:1"
PLANTED = np.array([[7.0, 7.0], [-8.0, 6.0], [6.0, -9.0], [0.0, 10.0]])


def channel(name: str, prefix: str, content_type: str, distribution: str) -> dict[str, Any]:
    return support_channel(BUCKET, name, prefix, content_type, distribution)


def run_job(
    sagemaker: Any, name: str, mode: str, instances: int, channels: list[dict[str, Any]]
) -> dict[str, Any]:
    sagemaker.create_training_job(
        TrainingJobName=name,
        RoleArn=ROLE_ARN,
        AlgorithmSpecification={"TrainingImage": IMAGE, "TrainingInputMode": mode},
        HyperParameters={"feature_dim": "2", "num_trees": "50", "num_samples_per_tree": "64"},
        InputDataConfig=channels,
        OutputDataConfig={"S3OutputPath": f"s3://{BUCKET}/output"},
        ResourceConfig={"InstanceType": "ml.m5.xlarge", "InstanceCount": instances, "VolumeSizeInGB": 10},
        StoppingCondition={"MaxRuntimeInSeconds": 300},
    )
    described = wait_until_done(sagemaker, name)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    return described


def forest_of(s3: Any, described: dict[str, Any]) -> Forest:
    key = described["ModelArtifacts"]["S3ModelArtifacts"].split(f"s3://{BUCKET}/", 1)[1]
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())) as tar:
        member = tar.extractfile("rcf-model.npz")
        assert member is not None
        return Forest.from_arrays(dict(np.load(io.BytesIO(member.read()))))


def test_test_channel_metrics_pipe_mode_and_sharded_hosts(s3_client: Any, sagemaker_client: Any) -> None:
    ensure_bucket(s3_client, BUCKET)
    random = np.random.default_rng(11)
    rows = random.normal(size=(800, 2)).astype(np.float32)
    for part, shard in enumerate(np.array_split(rows, 4)):
        buffer = io.BytesIO()
        write_dense(buffer, shard)
        s3_client.put_object(Bucket=BUCKET, Key=f"train/part-{part}.pbr", Body=buffer.getvalue())
    test = np.column_stack([np.zeros(150), random.normal(size=(150, 2))])
    test[:4] = np.column_stack([np.ones(4), PLANTED])
    s3_client.put_object(Bucket=BUCKET, Key="test/test.csv", Body=csv_bytes(test))
    train_channel = channel("train", "train", "application/x-recordio-protobuf", "ShardedByS3Key")
    test_channel = channel("test", "test", "text/csv;label_size=1", "FullyReplicated")

    labelled = run_job(sagemaker_client, "rcf-file", "File", 1, [train_channel, test_channel])
    metrics = {metric["MetricName"]: metric["Value"] for metric in labelled["FinalMetricDataList"]}
    assert metrics["test:recall"] == 1.0 and metrics["test:f1"] > 0.5
    assert set(metrics) >= {"test:f1", "test:precision", "test:recall", "test:accuracy"}

    pipe = forest_of(s3_client, run_job(sagemaker_client, "rcf-pipe", "Pipe", 1, [train_channel]))
    np.testing.assert_array_equal(pipe.cut, forest_of(s3_client, labelled).cut)  # one sample, one forest

    # Two hosts each sample half of the files; the master merges the samples into one forest.
    sharded = forest_of(s3_client, run_job(sagemaker_client, "rcf-sharded", "Pipe", 2, [train_channel]))
    assert sharded.num_trees == 50 and sharded.sample_size == 64
    scores = score_rows(sharded, np.vstack([PLANTED, rows[:200]])).score
    assert scores[:4].min() > 3 * np.median(scores[4:])
