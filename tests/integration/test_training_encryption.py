"""OutputDataConfig.KmsKeyId: a training job's model artifacts are encrypted at rest under that key."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support import (
    breast_cancer_split,
    csv_bytes,
    ensure_bucket,
    make_client,
    wait_terminal,
    xgboost_job,
)

from opensage.embedded import EmbeddedServer

BUCKET = "kms-training"
QUICK = {"objective": "binary:logistic", "num_round": "3"}


@pytest.fixture(scope="module")
def kms(server: EmbeddedServer) -> Any:
    return make_client("kms", server.endpoint_url)


@pytest.fixture(scope="module")
def train_uri(s3_client: Any, kms: Any) -> str:
    train, _ = breast_cancer_split()
    ensure_bucket(s3_client, BUCKET)
    # The training data is itself SSE-KMS: the job process reads it through its keyring.
    key = kms.create_key(Description="training input")["KeyMetadata"]["Arn"]
    s3_client.put_object(
        Bucket=BUCKET,
        Key="train/train.csv",
        Body=csv_bytes(train),
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key,
    )
    return f"s3://{BUCKET}/train/"


def test_model_artifacts_are_encrypted_with_the_jobs_key(
    server: EmbeddedServer, s3_client: Any, sagemaker_client: Any, kms: Any, train_uri: str
) -> None:
    key = kms.create_key(Description="model artifacts")["KeyMetadata"]
    kms.create_alias(AliasName="alias/training-models", TargetKeyId=key["KeyId"])
    output = {"S3OutputPath": f"s3://{BUCKET}/output", "KmsKeyId": "alias/training-models"}
    request = xgboost_job("kms-model", BUCKET, {"train": train_uri}, QUICK, OutputDataConfig=output)
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "kms-model")
    assert described["TrainingJobStatus"] == "Completed", described.get("FailureReason")
    assert described["OutputDataConfig"]["KmsKeyId"] == "alias/training-models"

    artifact_key = "output/kms-model/output/model.tar.gz"
    got = s3_client.get_object(Bucket=BUCKET, Key=artifact_key)
    assert got["ServerSideEncryption"] == "aws:kms" and got["SSEKMSKeyId"] == key["Arn"]
    with tarfile.open(fileobj=io.BytesIO(got["Body"].read()), mode="r:gz") as archive:
        assert archive.getnames()  # a loadable archive with the model in it
    on_disk = (Path(server.settings.home) / "objects" / BUCKET / artifact_key).read_bytes()
    # The file on disk is frames of ciphertext, not a gzip stream (which starts 1f 8b).
    assert not on_disk.startswith(b"\x1f\x8b") and len(on_disk) > got["ContentLength"]


def test_an_unusable_key_fails_create_training_job(sagemaker_client: Any, kms: Any, train_uri: str) -> None:
    for name, key_id in (("kms-unknown", "alias/no-such-key"), ("kms-disabled", _disabled_key(kms))):
        output = {"S3OutputPath": f"s3://{BUCKET}/output", "KmsKeyId": key_id}
        with pytest.raises(ClientError) as error:
            sagemaker_client.create_training_job(
                **xgboost_job(name, BUCKET, {"train": train_uri}, QUICK, OutputDataConfig=output)
            )
        assert error.value.response["Error"]["Code"] == "ValidationException"
        assert key_id in error.value.response["Error"]["Message"]


def _disabled_key(kms: Any) -> str:
    key_id = str(kms.create_key()["KeyMetadata"]["KeyId"])
    kms.disable_key(KeyId=key_id)
    return key_id
