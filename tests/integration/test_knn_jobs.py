"""k-NN jobs through the server: a classifier and a regressor with each index type, scored on a test channel.

The classifiers read CSV in File mode; the regressors read RecordIO-protobuf shards, the IVFPQ
one in Pipe mode on two ShardedByS3Key hosts whose reservoirs the master merges. One endpoint
per predictor type answers plain and verbose requests.
"""

from __future__ import annotations

import io
import json
import tarfile
from typing import Any

import numpy as np
import pytest
from tests.support import ROLE_ARN, csv_bytes, deploy, ensure_bucket, variant, wait_until_done

from opensage.formats.recordio import write_dense

BUCKET = "knn-jobs"
IMAGE = "404615174143.dkr.ecr.us-east-2.amazonaws.com/knn:1"
INDEXES = {
    "flat": {"index_type": "faiss.Flat"},
    "ivfflat": {"index_type": "faiss.IVFFlat", "faiss_index_ivf_nlists": "6"},
    "ivfpq": {"index_type": "faiss.IVFPQ", "faiss_index_pq_m": "2"},
}


def blobs(rows: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    random = np.random.default_rng(seed)
    centres = random.normal(scale=5.0, size=(3, 4))
    labels = random.integers(0, 3, size=rows)
    return (centres[labels] + random.normal(size=(rows, 4))).astype(np.float32), labels.astype(np.float32)


def recordio(rows: np.ndarray, labels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    write_dense(buffer, rows, labels)
    return buffer.getvalue()


def channel(name: str, prefix: str, content_type: str) -> dict[str, Any]:
    return {
        "ChannelName": name,
        "ContentType": content_type,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": f"s3://{BUCKET}/{prefix}/",
                "S3DataDistributionType": "ShardedByS3Key" if name == "train" else "FullyReplicated",
            }
        },
    }


def job_request(name: str, predictor: str, index: str, mode: str = "File", hosts: int = 1) -> dict[str, Any]:
    content_type = "text/csv" if predictor == "classifier" else "application/x-recordio-protobuf"
    return {
        "TrainingJobName": name,
        "RoleArn": ROLE_ARN,
        "AlgorithmSpecification": {"TrainingImage": IMAGE, "TrainingInputMode": mode},
        "HyperParameters": {
            "feature_dim": "4",
            "k": "5",
            "predictor_type": predictor,
            "sample_size": "300",
            "mini_batch_size": "100",
            **INDEXES[index],
        },
        "InputDataConfig": [
            channel("train", f"{predictor}/train", content_type),
            channel("test", f"{predictor}/test", content_type),
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": hosts, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }


@pytest.fixture(scope="module")
def jobs(s3_client: Any, sagemaker_client: Any) -> dict[str, dict[str, Any]]:
    """Six jobs started together: {classifier, regressor} x {flat, ivfflat, ivfpq}."""
    ensure_bucket(s3_client, BUCKET)
    rows, labels = blobs(700, 3)
    s3_client.put_object(
        Bucket=BUCKET, Key="classifier/train/data.csv", Body=csv_bytes(np.column_stack([labels, rows])[:600])
    )
    s3_client.put_object(
        Bucket=BUCKET, Key="classifier/test/data.csv", Body=csv_bytes(np.column_stack([labels, rows])[600:])
    )
    targets = (rows[:, 0] + 0.5 * rows[:, 1]).astype(np.float32)
    for part, shard in enumerate(np.array_split(np.arange(600), 4)):
        s3_client.put_object(
            Bucket=BUCKET, Key=f"regressor/train/part-{part}.pbr", Body=recordio(rows[shard], targets[shard])
        )
    s3_client.put_object(
        Bucket=BUCKET, Key="regressor/test/part.pbr", Body=recordio(rows[600:], targets[600:])
    )
    requests = [
        job_request(f"knn-{predictor}-{index}", predictor, index)
        for predictor in ("classifier", "regressor")
        for index in INDEXES
        if (predictor, index) != ("regressor", "ivfpq")
    ]
    requests.append(job_request("knn-regressor-ivfpq", "regressor", "ivfpq", mode="Pipe", hosts=2))
    for request in requests:
        sagemaker_client.create_training_job(**request)
    done = {
        request["TrainingJobName"]: wait_until_done(sagemaker_client, request["TrainingJobName"])
        for request in requests
    }
    for name, described in done.items():
        assert described["TrainingJobStatus"] == "Completed", (name, described.get("FailureReason"))
    return done


def final_metric(described: dict[str, Any], name: str) -> float:
    values = {m["MetricName"]: m["Value"] for m in described["FinalMetricDataList"]}
    return float(values[name])


def model_files(s3: Any, described: dict[str, Any]) -> dict[str, bytes]:
    key = described["ModelArtifacts"]["S3ModelArtifacts"].split(f"s3://{BUCKET}/", 1)[1]
    with tarfile.open(fileobj=io.BytesIO(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}  # type: ignore[union-attr]


@pytest.mark.parametrize("index", list(INDEXES))
def test_classifier_scores_test_accuracy(jobs: dict[str, dict[str, Any]], index: str) -> None:
    assert final_metric(jobs[f"knn-classifier-{index}"], "test:accuracy") > 0.95


@pytest.mark.parametrize("index", list(INDEXES))
def test_regressor_scores_test_mse(jobs: dict[str, dict[str, Any]], index: str) -> None:
    # The target's variance is about 30; the neighbours' mean brings the error near the noise's 1.25.
    assert final_metric(jobs[f"knn-regressor-{index}"], "test:mse") < 3.0


def test_two_pipe_hosts_merge_their_samples_into_one_model(
    jobs: dict[str, dict[str, Any]], s3_client: Any
) -> None:
    described = jobs["knn-regressor-ivfpq"]
    assert described["ResourceConfig"]["InstanceCount"] == 2
    files = model_files(s3_client, described)
    assert sorted(files) == ["model_algo-1", "model_algo-1.json", "model_algo-1.labels"]
    assert len(files["model_algo-1.labels"]) == 300 * 4  # sample_size points from both hosts' 600 rows
    metadata = json.loads(files["model_algo-1.json"])
    assert (metadata["index_type"], metadata["predictor_type"], metadata["k"]) == (
        "faiss.IVFPQ",
        "regressor",
        5,
    )


@pytest.mark.parametrize("job", ["knn-classifier-ivfflat", "knn-regressor-ivfpq"])
def test_endpoint_answers_plain_and_verbose(
    jobs: dict[str, dict[str, Any]], sagemaker_client: Any, server: Any, job: str
) -> None:
    from tests.support import make_client

    sagemaker_client.create_model(
        ModelName=job,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": IMAGE, "ModelDataUrl": jobs[job]["ModelArtifacts"]["S3ModelArtifacts"]},
    )
    deploy(sagemaker_client, job, [variant("main", job)])
    runtime = make_client("sagemaker-runtime", server.endpoint_url)
    rows, labels = blobs(700, 3)
    body = csv_bytes(rows[600:610])
    plain = json.loads(
        runtime.invoke_endpoint(
            EndpointName=job, ContentType="text/csv", Accept="application/json", Body=body
        )["Body"].read()
    )
    assert [list(record) for record in plain["predictions"]] == [["predicted_label"]] * 10
    verbose = runtime.invoke_endpoint(
        EndpointName=job, ContentType="text/csv", Accept="application/json; verbose=true", Body=body
    )
    records = json.loads(verbose["Body"].read())["predictions"]
    assert all(list(record) == ["predicted_label", "distances", "labels"] for record in records)
    for record, simple in zip(records, plain["predictions"], strict=True):
        assert record["predicted_label"] == simple["predicted_label"]
        assert len(record["distances"]) == len(record["labels"]) == 5
        assert record["distances"] == sorted(record["distances"])
    if job.startswith("knn-classifier"):
        predicted = [record["predicted_label"] for record in plain["predictions"]]
        assert predicted == labels[600:610].tolist()
