"""Users' tarballs that would write outside their folder fail the job or endpoint with a reason naming the member."""

from __future__ import annotations

import io
import tarfile
import time
from typing import Any

from tests.scripts import SKLEARN_IMAGE, script_job, upload
from tests.support import ROLE_ARN, XGBOOST_IMAGE, ensure_bucket, wait_terminal

BUCKET = "unsafe-archives"


def _tarball(*members: tarfile.TarInfo) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for member in members:
            tar.addfile(member, io.BytesIO(b"print(1)\n") if member.isfile() else None)
    return buffer.getvalue()


def _file(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = len(b"print(1)\n")
    return info


def test_a_source_tarball_climbing_out_fails_the_job_as_a_client_error(
    sagemaker_client: Any, s3_client: Any
) -> None:
    ensure_bucket(s3_client, BUCKET)
    data = upload(s3_client, BUCKET, "data/train.csv", b"1,2\n0,1\n")
    source = upload(
        s3_client, BUCKET, "code/sourcedir.tar.gz", _tarball(_file("train.py"), _file("../escape.py"))
    )
    request = script_job(
        "unsafe-source", SKLEARN_IMAGE, "train.py", source, {"train": data}, f"s3://{BUCKET}/out"
    )
    sagemaker_client.create_training_job(**request)
    described = wait_terminal(sagemaker_client, "unsafe-source", 120)
    assert described["TrainingJobStatus"] == "Failed"
    assert described["FailureReason"] == (
        f"ClientError: sagemaker_submit_directory {source} is unsafe to unpack: "
        "member '../escape.py' has a path that leaves the folder it is unpacked into ('..')"
    )


def test_a_model_archive_with_a_link_outside_fails_the_endpoint(
    sagemaker_client: Any, s3_client: Any
) -> None:
    ensure_bucket(s3_client, BUCKET)
    link = tarfile.TarInfo("xgboost-model")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    model_data = upload(s3_client, BUCKET, "models/evil/model.tar.gz", _tarball(link))
    container = {"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data}
    sagemaker_client.create_model(
        ModelName="unsafe-model", ExecutionRoleArn=ROLE_ARN, PrimaryContainer=container
    )
    variant = {
        "VariantName": "v",
        "ModelName": "unsafe-model",
        "InstanceType": "ml.m5.large",
        "InitialInstanceCount": 1,
    }
    sagemaker_client.create_endpoint_config(EndpointConfigName="unsafe-config", ProductionVariants=[variant])
    sagemaker_client.create_endpoint(EndpointName="unsafe-endpoint", EndpointConfigName="unsafe-config")
    deadline = time.monotonic() + 60
    while (described := sagemaker_client.describe_endpoint(EndpointName="unsafe-endpoint"))[
        "EndpointStatus"
    ] == "Creating" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert described["EndpointStatus"] == "Failed"
    assert f"The model data {model_data} is unsafe to unpack" in described["FailureReason"]
    assert "member 'xgboost-model' is a link to the absolute path '/etc/passwd'" in described["FailureReason"]
