"""kill -9 the server mid-work, start it again on the same home: what users see is still true.

(a) A multipart upload interrupted in the middle of a part: no object appears, the upload and
its finished parts survive (listable, as S3 keeps an upload until it is completed or
aborted), the half-received part is gone, and completing it later gives exactly the bytes
sent. Objects written before the crash keep their checksums. (b) A training job killed
with its server before it got going ends Completed or Failed with a reason, never stuck.
(test_training_recovery.py covers jobs killed mid-training.) (c) An endpoint being created
comes up InService after the restart, and an InService endpoint comes back after another.
"""

from __future__ import annotations

import hashlib
import http.client
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pytest
import xgboost
from botocore.exceptions import ClientError
from tests.integration.server_process import ServerProcess, started_servers
from tests.support import (
    breast_cancer_split,
    create_model,
    csv_bytes,
    ensure_bucket,
    features_csv,
    model_archive,
    train_booster,
    variant,
    wait_terminal,
    xgboost_job,
)

from opensage.embedded import free_port

BUCKET = "crash"
PART_SIZE = 8 * 1024 * 1024
PARTS = 13  # 104 MiB in all
PARTS_BEFORE_CRASH = 6


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture()
def servers(home: Path) -> Iterator[list[ServerProcess]]:
    yield from started_servers(home)


def start(servers: list[ServerProcess], home: Path, port: int) -> ServerProcess:
    server = ServerProcess(home, port)
    servers.append(server)
    return server


def md5_etag(data: bytes) -> str:
    return f'"{hashlib.md5(data).hexdigest()}"'


def send_half_a_part(
    s3: Any, key: str, upload_id: str, part_number: int, body: bytes
) -> http.client.HTTPConnection:
    """Start an UploadPart (presigned, so it is authorised) and stop sending halfway through."""
    url = s3.generate_presigned_url(
        "upload_part",
        Params={"Bucket": BUCKET, "Key": key, "UploadId": upload_id, "PartNumber": part_number},
    )
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.netloc, timeout=30)
    connection.putrequest("PUT", f"{parts.path}?{parts.query}", skip_accept_encoding=True)
    connection.putheader("Content-Length", str(len(body)))
    connection.endheaders()
    connection.send(body[: len(body) // 2])
    return connection


def test_a_multipart_upload_interrupted_mid_part_leaves_no_object_and_can_be_finished(
    servers: list[ServerProcess], home: Path
) -> None:
    port = free_port()
    first = start(servers, home, port)
    s3 = first.client("s3")
    ensure_bucket(s3, BUCKET)
    data = np.random.default_rng(5).bytes(PART_SIZE * PARTS)
    parts = [data[i : i + PART_SIZE] for i in range(0, len(data), PART_SIZE)]
    earlier = np.random.default_rng(6).bytes(3 * 1024 * 1024)
    stored = s3.put_object(Bucket=BUCKET, Key="earlier.bin", Body=earlier, ChecksumAlgorithm="SHA256")
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key="big.bin")["UploadId"]
    for number, part in enumerate(parts[:PARTS_BEFORE_CRASH], start=1):
        s3.upload_part(Bucket=BUCKET, Key="big.bin", UploadId=upload_id, PartNumber=number, Body=part)
    abandoned = s3.create_multipart_upload(Bucket=BUCKET, Key="abandoned.bin")["UploadId"]
    s3.upload_part(Bucket=BUCKET, Key="abandoned.bin", UploadId=abandoned, PartNumber=1, Body=parts[0])
    in_flight = send_half_a_part(s3, "big.bin", upload_id, PARTS_BEFORE_CRASH + 1, parts[PARTS_BEFORE_CRASH])
    first.crash()
    in_flight.close()

    second = start(servers, home, port)
    s3 = second.client("s3")
    listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
    assert [item["Key"] for item in listed] == ["earlier.bin"]
    with pytest.raises(ClientError) as missing:
        s3.head_object(Bucket=BUCKET, Key="big.bin")
    assert missing.value.response["Error"]["Code"] == "404"
    uploads = s3.list_multipart_uploads(Bucket=BUCKET)["Uploads"]
    assert {(u["Key"], u["UploadId"]) for u in uploads} == {
        ("big.bin", upload_id),
        ("abandoned.bin", abandoned),
    }
    kept = s3.list_parts(Bucket=BUCKET, Key="big.bin", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"]) for p in kept] == [
        (n, PART_SIZE, md5_etag(part)) for n, part in enumerate(parts[:PARTS_BEFORE_CRASH], start=1)
    ], "the finished parts survive; the half-received one is gone"

    # What was stored before the crash reads back bit for bit, with the checksum it was stored with.
    again = s3.get_object(Bucket=BUCKET, Key="earlier.bin", ChecksumMode="ENABLED")
    assert again["Body"].read() == earlier and again["ChecksumSHA256"] == stored["ChecksumSHA256"]

    s3.abort_multipart_upload(Bucket=BUCKET, Key="abandoned.bin", UploadId=abandoned)
    etags = [p["ETag"] for p in kept]
    for number in range(PARTS_BEFORE_CRASH + 1, PARTS + 1):
        etags.append(
            s3.upload_part(
                Bucket=BUCKET, Key="big.bin", UploadId=upload_id, PartNumber=number, Body=parts[number - 1]
            )["ETag"]
        )
    s3.complete_multipart_upload(
        Bucket=BUCKET,
        Key="big.bin",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]},
    )
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])] == []
    body = s3.get_object(Bucket=BUCKET, Key="big.bin")["Body"].read()
    assert len(body) == len(data) and hashlib.sha256(body).digest() == hashlib.sha256(data).digest()


def test_a_training_job_killed_with_its_server_while_starting_ends_truthfully(
    servers: list[ServerProcess], home: Path
) -> None:
    port = free_port()
    first = start(servers, home, port)
    s3 = first.client("s3")
    ensure_bucket(s3, BUCKET)
    train, _ = breast_cancer_split()
    s3.put_object(Bucket=BUCKET, Key="train/train.csv", Body=csv_bytes(train))
    hyperparameters = {"objective": "binary:logistic", "num_round": "20"}
    first.client("sagemaker").create_training_job(
        **xgboost_job("early", BUCKET, {"train": f"s3://{BUCKET}/train/"}, hyperparameters)
    )
    first.crash()

    second = start(servers, home, port)
    sagemaker = second.client("sagemaker")
    described = wait_terminal(sagemaker, "early", 120)
    listed = sagemaker.list_training_jobs(NameContains="early")["TrainingJobSummaries"]
    assert [(j["TrainingJobName"], j["TrainingJobStatus"]) for j in listed] == [
        ("early", described["TrainingJobStatus"])
    ]
    if described["TrainingJobStatus"] == "Completed":
        artifacts = described["ModelArtifacts"]["S3ModelArtifacts"]
        bucket, key = artifacts.removeprefix("s3://").split("/", 1)
        assert second.client("s3").head_object(Bucket=bucket, Key=key)["ContentLength"] > 0
    else:
        assert described["TrainingJobStatus"] == "Failed" and described["FailureReason"]


def invoke(server: ServerProcess, endpoint: str, rows: Any) -> np.ndarray:
    answer = server.client("sagemaker-runtime").invoke_endpoint(
        EndpointName=endpoint, ContentType="text/csv", Body=features_csv(rows)
    )
    return np.array([float(v) for v in answer["Body"].read().decode().split()])


def wait_in_service(server: ServerProcess, endpoint: str) -> None:
    server.client("sagemaker").get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint, WaiterConfig={"Delay": 0.5, "MaxAttempts": 240}
    )


def test_an_endpoint_being_created_comes_up_after_a_crash_and_comes_back_after_another(
    servers: list[ServerProcess], home: Path
) -> None:
    port = free_port()
    first = start(servers, home, port)
    s3, sagemaker = first.client("s3"), first.client("sagemaker")
    ensure_bucket(s3, BUCKET)
    train, test = breast_cancer_split()
    booster = train_booster(train)
    expected = booster.predict(xgboost.DMatrix(test[:, 1:]))
    s3.put_object(Bucket=BUCKET, Key="model/model.tar.gz", Body=model_archive(booster))
    create_model(sagemaker, "survivor-model", f"s3://{BUCKET}/model/model.tar.gz")
    sagemaker.create_endpoint_config(
        EndpointConfigName="survivor", ProductionVariants=[variant("main", "survivor-model")]
    )
    sagemaker.create_endpoint(EndpointName="survivor", EndpointConfigName="survivor")
    assert sagemaker.describe_endpoint(EndpointName="survivor")["EndpointStatus"] == "Creating"
    first.crash()

    second = start(servers, home, port)
    wait_in_service(second, "survivor")
    assert np.allclose(invoke(second, "survivor", test[:, 1:]), expected, atol=1e-6)
    second.crash()

    third = start(servers, home, port)
    wait_in_service(third, "survivor")
    described = third.client("sagemaker").describe_endpoint(EndpointName="survivor")
    assert described["ProductionVariants"][0]["CurrentInstanceCount"] == 1
    assert np.allclose(invoke(third, "survivor", test[:, 1:]), expected, atol=1e-6)
