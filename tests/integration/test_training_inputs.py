"""Every input path of built-in XGBoost through the API: formats, channel kinds, output modes, two hosts."""

from __future__ import annotations

import gzip
import io
import json
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from tests.support import breast_cancer_split, csv_bytes, ensure_bucket, wait_until_done, xgboost_job

from opensage.formats.recordio import write_dense

BUCKET = "xgb-inputs"
HYPERPARAMETERS = {"objective": "binary:logistic", "num_round": "10", "eval_metric": "auc", "seed": "1"}


@pytest.fixture(scope="module")
def rows(s3_client: Any) -> tuple[Any, Any]:
    ensure_bucket(s3_client, BUCKET)
    return breast_cancer_split()


def libsvm_bytes(data: Any) -> bytes:
    lines = [
        f"{int(r[0])} " + " ".join(f"{i}:{float(v)!r}" for i, v in enumerate(r[1:]) if v != 0) for r in data
    ]
    return ("\n".join(lines) + "\n").encode()


def parquet_bytes(data: Any) -> bytes:
    table = pa.table({f"c{i}": data[:, i] for i in range(data.shape[1])})
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def recordio_bytes(data: Any) -> bytes:
    sink = io.BytesIO()
    write_dense(sink, data[:, 1:].astype(np.float32), labels=data[:, 0].astype(np.float32))
    return sink.getvalue()


def run(
    sagemaker: Any, name: str, content_type: str, train_uri: str, validation_uri: str, **overrides: Any
) -> dict[str, Any]:
    request = xgboost_job(
        name, BUCKET, {"train": train_uri, "validation": validation_uri}, HYPERPARAMETERS, **overrides
    )
    for channel in request["InputDataConfig"]:
        channel["ContentType"] = content_type
    sagemaker.create_training_job(**request)
    described = wait_until_done(sagemaker, name)
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    return described


def validation_auc(described: dict[str, Any]) -> float:
    return next(m["Value"] for m in described["FinalMetricDataList"] if m["MetricName"] == "validation:auc")


@pytest.mark.parametrize(
    ("content_type", "encode", "suffix"),
    [
        ("text/libsvm", libsvm_bytes, "libsvm"),
        ("application/x-parquet", parquet_bytes, "parquet"),
        ("application/x-recordio-protobuf", recordio_bytes, "rec"),
    ],
)
def test_each_training_format(
    s3_client: Any, sagemaker_client: Any, rows: tuple[Any, Any], content_type: str, encode: Any, suffix: str
) -> None:
    train, validation = rows
    s3_client.put_object(Bucket=BUCKET, Key=f"{suffix}/train/part.{suffix}", Body=encode(train))
    s3_client.put_object(Bucket=BUCKET, Key=f"{suffix}/validation/part.{suffix}", Body=encode(validation))
    described = run(
        sagemaker_client,
        f"format-{suffix}",
        content_type,
        f"s3://{BUCKET}/{suffix}/train/",
        f"s3://{BUCKET}/{suffix}/validation/",
    )
    assert validation_auc(described) > 0.95


def test_gzip_manifest_channels_and_uncompressed_output(
    s3_client: Any, sagemaker_client: Any, rows: tuple[Any, Any]
) -> None:
    train, validation = rows
    halves = np.array_split(train, 2)
    for i, half in enumerate(halves):
        s3_client.put_object(
            Bucket=BUCKET, Key=f"gz/parts/train-{i}.csv.gz", Body=gzip.compress(csv_bytes(half))
        )
    s3_client.put_object(
        Bucket=BUCKET, Key="gz/validation/v.csv.gz", Body=gzip.compress(csv_bytes(validation))
    )
    manifest = [{"prefix": f"s3://{BUCKET}/gz/parts/"}, "train-0.csv.gz", "train-1.csv.gz"]
    s3_client.put_object(Bucket=BUCKET, Key="gz/train.manifest", Body=json.dumps(manifest).encode())
    request = xgboost_job(
        "gzip-manifest",
        BUCKET,
        {"train": f"s3://{BUCKET}/gz/train.manifest", "validation": f"s3://{BUCKET}/gz/validation/"},
        HYPERPARAMETERS,
    )
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataType"] = "ManifestFile"
    for channel in request["InputDataConfig"]:
        channel["CompressionType"] = "Gzip"
    request["OutputDataConfig"]["CompressionType"] = "NONE"
    sagemaker_client.create_training_job(**request)
    described = wait_until_done(sagemaker_client, "gzip-manifest")
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert validation_auc(described) > 0.95
    artifacts = described["ModelArtifacts"]["S3ModelArtifacts"]
    assert artifacts == f"s3://{BUCKET}/output/gzip-manifest/output/model/"
    model = s3_client.head_object(Bucket=BUCKET, Key="output/gzip-manifest/output/model/xgboost-model")
    assert model["ContentLength"] > 0


def test_two_hosts_train_one_model_on_their_shards(
    s3_client: Any, sagemaker_client: Any, logs_client: Any, rows: tuple[Any, Any]
) -> None:
    train, validation = rows
    for i, shard in enumerate(np.array_split(train, 2)):
        s3_client.put_object(Bucket=BUCKET, Key=f"sharded/train/part-{i}.csv", Body=csv_bytes(shard))
    s3_client.put_object(Bucket=BUCKET, Key="sharded/validation/v.csv", Body=csv_bytes(validation))
    request = xgboost_job(
        "two-hosts",
        BUCKET,
        {"train": f"s3://{BUCKET}/sharded/train/", "validation": f"s3://{BUCKET}/sharded/validation/"},
        HYPERPARAMETERS,
    )
    request["ResourceConfig"]["InstanceCount"] = 2
    request["InputDataConfig"][0]["DataSource"]["S3DataSource"]["S3DataDistributionType"] = "ShardedByS3Key"
    sagemaker_client.create_training_job(**request)
    described = wait_until_done(sagemaker_client, "two-hosts")
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert validation_auc(described) > 0.95
    streams = logs_client.describe_log_streams(
        logGroupName="/aws/sagemaker/TrainingJobs", logStreamNamePrefix="two-hosts/"
    )["logStreams"]
    assert [s["logStreamName"].rsplit("-", 1)[0] for s in streams] == ["two-hosts/algo-1", "two-hosts/algo-2"]
    second = logs_client.get_log_events(
        logGroupName="/aws/sagemaker/TrainingJobs",
        logStreamName=streams[1]["logStreamName"],
        startFromHead=True,
    )
    assert second["events"], "the second host must have run and logged"
