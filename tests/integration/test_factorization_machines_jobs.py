"""Factorization Machines jobs through the server: Pipe mode with test metrics, sharded hosts, CSV refused."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
from scipy import sparse
from tests.support import ROLE_ARN, ensure_bucket, wait_terminal, wait_until_done
from tests.support import s3_channel as support_channel

from opensage.formats.recordio import write_sparse

BUCKET = "fm-jobs"
IMAGE = "174872318107.dkr.ecr.us-west-2.amazonaws.com/factorization-machines:1"
USERS, ITEMS = 40, 30


def ratings(n: int, seed: int) -> bytes:
    """One-hot (user, item) rows labelled with a rank-2 interaction plus a little noise, as RecordIO."""
    random = np.random.default_rng(seed)
    taste = np.random.default_rng(0)
    user_vectors, item_vectors = taste.normal(size=(USERS, 2)), taste.normal(size=(ITEMS, 2))
    u, i = random.integers(0, USERS, n), random.integers(0, ITEMS, n)
    labels = np.sum(user_vectors[u] * item_vectors[i], axis=1) + 0.1 * random.normal(size=n)
    rows = sparse.csr_matrix(
        (np.ones(2 * n, np.float32), np.column_stack([u, USERS + i]).ravel(), np.arange(0, 2 * n + 1, 2)),
        shape=(n, USERS + ITEMS),
    )
    buffer = io.BytesIO()
    write_sparse(buffer, rows, labels.astype(np.float32))
    return buffer.getvalue()


def channel(name: str, prefix: str, content_type: str | None, distribution: str) -> dict[str, Any]:
    return support_channel(BUCKET, name, prefix, content_type, distribution)


def job_request(
    name: str, mode: str, instances: int, content_type: str | None, test: bool = True
) -> dict[str, Any]:
    channels = [channel("train", "train", content_type, "ShardedByS3Key")]
    if test:
        channels.append(channel("test", "test", content_type, "FullyReplicated"))
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE_ARN,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": mode},
        "HyperParameters": {
            "feature_dim": str(USERS + ITEMS),
            "num_factors": "4",
            "predictor_type": "regressor",
            "epochs": "10",
            "mini_batch_size": "100",
            "factors_lr": "0.03",
            "linear_lr": "0.03",
            "factors_init_sigma": "0.1",
        },
        "InputDataConfig": channels,
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": instances, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


def final_metrics(described: dict[str, Any]) -> dict[str, float]:
    return {item["MetricName"]: item["Value"] for item in described.get("FinalMetricDataList", [])}


def job_log(logs: Any, job: str) -> str:
    group = "/aws/sagemaker/TrainingJobs"
    streams = logs.describe_log_streams(logGroupName=group, logStreamNamePrefix=f"{job}/")["logStreams"]
    return "\n".join(
        event["message"]
        for stream in streams
        for event in logs.get_log_events(
            logGroupName=group, logStreamName=stream["logStreamName"], startFromHead=True
        )["events"]
    )


def test_pipe_mode_sharded_hosts_and_the_sdks_missing_content_type(
    s3_client: Any, sagemaker_client: Any, logs_client: Any
) -> None:
    ensure_bucket(s3_client, BUCKET)
    for part in range(2):
        s3_client.put_object(Bucket=BUCKET, Key=f"train/part-{part}.pbr", Body=ratings(1500, seed=part + 1))
    s3_client.put_object(Bucket=BUCKET, Key="test/test.pbr", Body=ratings(500, seed=9))

    # The SageMaker SDK's record_set sends no ContentType: RecordIO is what FM reads.
    sagemaker_client.create_training_job(**job_request("fm-pipe", "Pipe", 1, None))
    pipe = wait_until_done(sagemaker_client, "fm-pipe")
    assert pipe["TrainingJobStatus"] == "Completed", pipe.get("FailureReason")
    # Ratings spread about 1.4 around 0 with noise 0.1: the interactions were learned.
    assert final_metrics(pipe)["test:rmse"] < 0.4

    sagemaker_client.create_training_job(
        **job_request("fm-sharded", "File", 2, "application/x-recordio-protobuf")
    )
    sharded = wait_until_done(sagemaker_client, "fm-sharded")
    assert sharded["TrainingJobStatus"] == "Completed", sharded.get("FailureReason")
    # Averaging after every epoch, two hosts train as one (averaging once, at the end, had
    # doubled the RMSE: 0.23 against one host's 0.12).
    assert final_metrics(sharded)["test:rmse"] < final_metrics(pipe)["test:rmse"] + 0.02
    assert "averaging their models (weighted by rows) after every epoch" in job_log(logs_client, "fm-sharded")


def test_csv_training_data_fails_the_job_saying_why(s3_client: Any, sagemaker_client: Any) -> None:
    ensure_bucket(s3_client, BUCKET)
    s3_client.put_object(Bucket=BUCKET, Key="train-csv/data.csv", Body=b"1,0,1\n0,1,0\n")
    request = job_request("fm-csv", "File", 1, "text/csv", test=False)
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3Uri"] = f"s3://{BUCKET}/train-csv/"
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "fm-csv")
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"].startswith("ClientError")
    assert "not CSV" in described["FailureReason"]
