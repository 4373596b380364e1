"""TransformOutput.KmsKeyId and ProcessingOutputConfig.KmsKeyId: job outputs encrypted at rest under the key.

Both jobs also read SSE-KMS inputs (and the transform an SSE-KMS model) through the keyring
the control plane gives their job process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from botocore.exceptions import ClientError
from tests.scripts import SKLEARN_IMAGE
from tests.support import (
    ROLE_ARN,
    breast_cancer_split,
    create_model,
    ensure_bucket,
    features_csv,
    make_client,
    model_archive,
    train_booster,
)

from opensage.embedded import EmbeddedServer

BUCKET = "kms-jobs"
SPLIT = b"""
import shutil
shutil.copy("/opt/ml/processing/input/data/rows.csv", "/opt/ml/processing/out/copy.csv")
with open("/opt/ml/processing/out/count.txt", "w") as out:
    out.write(str(sum(1 for _ in open("/opt/ml/processing/input/data/rows.csv"))))
"""


@pytest.fixture(scope="module")
def kms(server: EmbeddedServer) -> Any:
    return make_client("kms", server.endpoint_url)


@pytest.fixture(scope="module")
def keys(kms: Any, s3_client: Any) -> dict[str, str]:
    ensure_bucket(s3_client, BUCKET)
    made = {name: kms.create_key(Description=name)["KeyMetadata"]["Arn"] for name in ("inputs", "outputs")}
    kms.create_alias(AliasName="alias/job-outputs", TargetKeyId=made["outputs"])
    return made


def put_encrypted(s3: Any, key: str, body: bytes, kms_key: str) -> None:
    s3.put_object(Bucket=BUCKET, Key=key, Body=body, ServerSideEncryption="aws:kms", SSEKMSKeyId=kms_key)


def assert_encrypted_at_rest(
    server: EmbeddedServer, s3: Any, key: str, kms_key: str, plaintext: bytes
) -> None:
    got = s3.get_object(Bucket=BUCKET, Key=key)
    assert got["ServerSideEncryption"] == "aws:kms" and got["SSEKMSKeyId"] == kms_key
    assert got["Body"].read() == plaintext
    on_disk = (Path(server.settings.home) / "objects" / BUCKET / key).read_bytes()
    assert plaintext[:32] not in on_disk


def test_a_transform_job_writes_its_outputs_under_its_key(
    server: EmbeddedServer, s3_client: Any, sagemaker_client: Any, keys: dict[str, str]
) -> None:
    train, test = breast_cancer_split()
    booster = train_booster(train)
    put_encrypted(s3_client, "model/model.tar.gz", model_archive(booster), keys["inputs"])
    put_encrypted(s3_client, "transform/in/rows.csv", features_csv(test[:50, 1:]), keys["inputs"])
    create_model(sagemaker_client, "kms-transform-model", f"s3://{BUCKET}/model/model.tar.gz")
    sagemaker_client.create_transform_job(
        TransformJobName="kms-transform",
        ModelName="kms-transform-model",
        TransformInput={
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/transform/in/"}
            },
            "ContentType": "text/csv",
            "SplitType": "Line",
        },
        TransformOutput={"S3OutputPath": f"s3://{BUCKET}/transform/out/", "KmsKeyId": "alias/job-outputs"},
        TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
    )
    sagemaker_client.get_waiter("transform_job_completed_or_stopped").wait(
        TransformJobName="kms-transform", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described = sagemaker_client.describe_transform_job(TransformJobName="kms-transform")
    assert described["TransformJobStatus"] == "Completed", described.get("FailureReason")
    import xgboost

    expected = booster.predict(xgboost.DMatrix(test[:50, 1:]))
    answer = s3_client.get_object(Bucket=BUCKET, Key="transform/out/rows.csv.out")["Body"].read()
    np.testing.assert_allclose([float(line) for line in answer.split()], expected, rtol=1e-6)
    assert_encrypted_at_rest(server, s3_client, "transform/out/rows.csv.out", keys["outputs"], answer)


def test_a_processing_job_uploads_its_outputs_under_its_key(
    server: EmbeddedServer, s3_client: Any, sagemaker_client: Any, keys: dict[str, str]
) -> None:
    rows = features_csv(breast_cancer_split()[1][:40, 1:])
    put_encrypted(s3_client, "processing/in/rows.csv", rows, keys["inputs"])
    s3_client.put_object(Bucket=BUCKET, Key="processing/code/copy.py", Body=SPLIT)

    def s3_input(name: str, uri: str, path: str) -> dict[str, Any]:
        source = {"S3Uri": uri, "LocalPath": path, "S3DataType": "S3Prefix", "S3InputMode": "File"}
        return {"InputName": name, "S3Input": source}

    sagemaker_client.create_processing_job(
        ProcessingJobName="kms-processing",
        RoleArn=ROLE_ARN,
        AppSpecification={
            "ImageUri": SKLEARN_IMAGE,
            "ContainerEntrypoint": ["python3", "/opt/ml/processing/input/code/copy.py"],
        },
        ProcessingInputs=[
            s3_input("code", f"s3://{BUCKET}/processing/code/", "/opt/ml/processing/input/code"),
            s3_input("data", f"s3://{BUCKET}/processing/in/", "/opt/ml/processing/input/data"),
        ],
        ProcessingOutputConfig={
            "Outputs": [
                {
                    "OutputName": "out",
                    "S3Output": {
                        "S3Uri": f"s3://{BUCKET}/processing/out",
                        "LocalPath": "/opt/ml/processing/out",
                        "S3UploadMode": "EndOfJob",
                    },
                }
            ],
            "KmsKeyId": keys["outputs"],
        },
        ProcessingResources={
            "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 10}
        },
    )
    sagemaker_client.get_waiter("processing_job_completed_or_stopped").wait(
        ProcessingJobName="kms-processing", WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )
    described = sagemaker_client.describe_processing_job(ProcessingJobName="kms-processing")
    assert described["ProcessingJobStatus"] == "Completed", described.get("FailureReason")
    assert_encrypted_at_rest(server, s3_client, "processing/out/copy.csv", keys["outputs"], rows)
    assert s3_client.get_object(Bucket=BUCKET, Key="processing/out/count.txt")["Body"].read() == b"40"


def test_an_unknown_output_key_fails_create_with_its_name(
    sagemaker_client: Any, keys: dict[str, str]
) -> None:
    with pytest.raises(ClientError) as transform:
        sagemaker_client.create_transform_job(
            TransformJobName="kms-bad-transform",
            ModelName="kms-transform-model",
            TransformInput={
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/x/"}}
            },
            TransformOutput={"S3OutputPath": f"s3://{BUCKET}/y/", "KmsKeyId": "alias/missing-key"},
            TransformResources={"InstanceType": "ml.m5.large", "InstanceCount": 1},
        )
    assert transform.value.response["Error"]["Code"] == "ValidationException"
    assert "alias/missing-key" in transform.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as processing:
        sagemaker_client.create_processing_job(
            ProcessingJobName="kms-bad-processing",
            RoleArn=ROLE_ARN,
            AppSpecification={"ImageUri": SKLEARN_IMAGE, "ContainerEntrypoint": ["python3", "x.py"]},
            ProcessingOutputConfig={"Outputs": [], "KmsKeyId": "alias/missing-key"},
            ProcessingResources={
                "ClusterConfig": {"InstanceCount": 1, "InstanceType": "ml.m5.xlarge", "VolumeSizeInGB": 10}
            },
        )
    assert processing.value.response["Error"]["Code"] == "ValidationException"
    assert "alias/missing-key" in processing.value.response["Error"]["Message"]
    # Nothing was created.
    names = [
        job["TransformJobName"] for job in sagemaker_client.list_transform_jobs()["TransformJobSummaries"]
    ]
    assert "kms-bad-transform" not in names
