"""Helpers shared by the test suites: settings for a throwaway server and boto3 clients for it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from opensage.embedded import free_port
from opensage.settings import Settings

REGION = "us-east-1"
ROLE_ARN = "arn:aws:iam::000000000000:role/opensage-tests"
XGBOOST_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
# The admin key every test server is seeded with (make_settings) and every test client signs with.
TEST_ACCESS_KEY_ID = "AKIAOPENSAGETESTKEY0"
TEST_SECRET_ACCESS_KEY = "opensageTestSecretKey0000000000000000000"


def make_settings(home: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "home": home,
        "port": free_port(),
        "stop_grace_seconds": 5.0,
        "admin_access_key_id": TEST_ACCESS_KEY_ID,
        "admin_secret_access_key": TEST_SECRET_ACCESS_KEY,
    }
    values.update(overrides)
    return Settings(**values)


def make_client(service: str, endpoint_url: str, retries: int = 2) -> Any:
    """A boto3 client for the server; ``retries`` is botocore's ``max_attempts``: retries after the first try."""
    return boto3.client(
        service,
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
        # s3v4: botocore would presign S3 URLs with the legacy SigV2, which opensage refuses.
        config=Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4" if service == "s3" else None,
            retries={"max_attempts": retries, "mode": "standard"},
        ),
    )


def csv_bytes(rows: Any) -> bytes:
    """Rows as CSV text the built-in algorithms read: no header, full float precision."""
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()


def breast_cancer_split(seed: int = 0) -> tuple[Any, Any]:
    """The Wisconsin breast-cancer data (real, shipped with scikit-learn), label first, 80/20 split."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    rows = np.column_stack([data.target, data.data])
    order = np.random.default_rng(seed).permutation(len(rows))
    cut = int(len(rows) * 0.8)
    return rows[order[:cut]], rows[order[cut:]]


def ensure_bucket(s3: Any, bucket: str) -> None:
    if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
        s3.create_bucket(Bucket=bucket)


def xgboost_job(
    name: str,
    bucket: str,
    channels: dict[str, str],
    hyperparameters: dict[str, str],
    **overrides: Any,
) -> dict[str, Any]:
    """A CreateTrainingJob request for built-in XGBoost with CSV channels ``name -> s3 uri``."""
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": ROLE_ARN,
        "AlgorithmSpecification": {"TrainingImage": XGBOOST_IMAGE, "TrainingInputMode": "File"},
        "HyperParameters": hyperparameters,
        "InputDataConfig": [
            {
                "ChannelName": channel,
                "ContentType": "text/csv",
                "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}},
            }
            for channel, uri in channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": f"s3://{bucket}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 300},
    }
    request.update(overrides)
    return request


def wait_until_done(sagemaker: Any, name: str, max_seconds: int = 120) -> dict[str, Any]:
    """Wait with botocore's own waiter, as users do, then Describe."""
    sagemaker.get_waiter("training_job_completed_or_stopped").wait(
        TrainingJobName=name, WaiterConfig={"Delay": 1, "MaxAttempts": max_seconds}
    )
    described: dict[str, Any] = sagemaker.describe_training_job(TrainingJobName=name)
    return described


def wait_for_secondary(sagemaker: Any, name: str, wanted: str, max_seconds: float = 60) -> dict[str, Any]:
    import time

    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        described: dict[str, Any] = sagemaker.describe_training_job(TrainingJobName=name)
        if described["SecondaryStatus"] == wanted:
            return described
        if described["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            raise AssertionError(f"{name} ended {described['TrainingJobStatus']} before reaching {wanted}")
        time.sleep(0.1)
    raise AssertionError(f"{name} did not reach {wanted} within {max_seconds} s")


def wait_terminal(sagemaker: Any, name: str, max_seconds: float = 120) -> dict[str, Any]:
    """Poll Describe until the job ends however it ends (the waiter raises on Failed)."""
    import time

    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        described: dict[str, Any] = sagemaker.describe_training_job(TrainingJobName=name)
        if described["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
            return described
        time.sleep(0.1)
    raise AssertionError(f"{name} did not end within {max_seconds} s")


def model_archive(booster: Any) -> bytes:
    """A model.tar.gz as built-in XGBoost training writes it: one ``xgboost-model`` (UBJSON) file."""
    import io
    import tarfile

    raw = bytes(booster.save_raw("ubj"))
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        info = tarfile.TarInfo("xgboost-model")
        info.size = len(raw)
        tar.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


def train_booster(rows: Any, rounds: int = 10, **params: Any) -> Any:
    """An xgboost Booster on label-first rows, trained in-process."""
    import xgboost

    settings = {"objective": "binary:logistic", "max_depth": 3, "seed": 1, **params}
    return xgboost.train(settings, xgboost.DMatrix(rows[:, 1:], label=rows[:, 0]), num_boost_round=rounds)


def features_csv(rows: Any) -> bytes:
    """Feature rows (no label) as an inference request body."""
    return "".join(",".join(repr(float(v)) for v in row) + "\n" for row in rows).encode()


def create_model(sagemaker: Any, name: str, model_data_url: str, **container: Any) -> None:
    sagemaker.create_model(
        ModelName=name,
        ExecutionRoleArn=ROLE_ARN,
        PrimaryContainer={"Image": XGBOOST_IMAGE, "ModelDataUrl": model_data_url, **container},
    )


def deploy(sagemaker: Any, endpoint: str, variants: list[dict[str, Any]], **config: Any) -> None:
    """CreateEndpointConfig (named after the endpoint) + CreateEndpoint, then wait until InService."""
    sagemaker.create_endpoint_config(EndpointConfigName=endpoint, ProductionVariants=variants, **config)
    sagemaker.create_endpoint(EndpointName=endpoint, EndpointConfigName=endpoint)
    sagemaker.get_waiter("endpoint_in_service").wait(
        EndpointName=endpoint, WaiterConfig={"Delay": 1, "MaxAttempts": 120}
    )


def variant(name: str, model: str, count: int = 1, weight: float = 1.0) -> dict[str, Any]:
    return {
        "VariantName": name,
        "ModelName": model,
        "InitialInstanceCount": count,
        "InstanceType": "ml.m5.large",
        "InitialVariantWeight": weight,
    }


def sign_s3_headers(method: str, path: str, headers: dict[str, str], host: str) -> dict[str, str]:
    """``headers`` plus a SigV4 signature by the test key, for raw-HTTP S3 tests.

    The payload is whatever ``x-amz-content-sha256`` says (``UNSIGNED-PAYLOAD`` when absent),
    signed as declared: botocore's signer would otherwise put its own hash of the body there.
    """
    import time

    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    signed = {"x-amz-content-sha256": "UNSIGNED-PAYLOAD", **headers, "host": host}
    signed["x-amz-date"] = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    request = AWSRequest(method=method, url=f"http://{host}{path}", headers=signed)
    request.context["timestamp"] = signed["x-amz-date"]
    signer = S3SigV4Auth(Credentials(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY), "s3", REGION)
    canonical = signer.canonical_request(request)
    signature = signer.signature(signer.string_to_sign(request, canonical), request)
    names = signer.signed_headers(signer.headers_to_sign(request))
    signed["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={signer.scope(request)}, SignedHeaders={names}, Signature={signature}"
    )
    return signed


def signed_aws_chunked(
    payload: bytes,
    chunk_size: int,
    signed_headers: dict[str, str] | None,
    trailer_lines: list[str] | None = None,
) -> bytes:
    """``payload`` as an aws-chunked body whose chunks (and trailer) are signed by the test key.

    The chain starts from the request's own signature in ``signed_headers`` (from
    ``sign_s3_headers`` with a ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`` payload), as AWS
    documents: each chunk signs "AWS4-HMAC-SHA256-PAYLOAD", the time, the scope, the previous
    signature, sha256("") and sha256(data); the trailer "AWS4-HMAC-SHA256-TRAILER" and the hash
    of its lines. ``signed_headers`` None frames placeholder signatures, to learn the length.
    """
    import hashlib
    import hmac

    if signed_headers is None:
        previous, timestamp = "0" * 64, "20000101T000000Z"
    else:
        previous, timestamp = (
            signed_headers["Authorization"].rsplit("Signature=", 1)[1],
            signed_headers["x-amz-date"],
        )
    scope = f"{timestamp[:8]}/{REGION}/s3/aws4_request"
    key = f"AWS4{TEST_SECRET_ACCESS_KEY}".encode()
    for part in scope.split("/"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()

    def sign(*lines: str) -> str:
        nonlocal previous
        text = "\n".join([lines[0], timestamp, scope, previous, *lines[1:]])
        previous = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        return previous if signed_headers is not None else "0" * 64

    empty = hashlib.sha256(b"").hexdigest()
    pieces = [payload[start : start + chunk_size] for start in range(0, len(payload), chunk_size)]
    out = bytearray()
    for piece in [*pieces, b""]:
        signature = sign("AWS4-HMAC-SHA256-PAYLOAD", empty, hashlib.sha256(piece).hexdigest())
        out += (
            f"{len(piece):x};chunk-signature={signature}\r\n".encode() + piece + (b"\r\n" if piece else b"")
        )
    if trailer_lines is not None:
        text = "".join(f"{line}\n" for line in trailer_lines)
        signature = sign("AWS4-HMAC-SHA256-TRAILER", hashlib.sha256(text.encode()).hexdigest())
        out += "".join(
            f"{line}\r\n" for line in [*trailer_lines, f"x-amz-trailer-signature:{signature}"]
        ).encode()
    return bytes(out + b"\r\n")


def s3_channel(
    bucket: str,
    name: str,
    prefix: str,
    content_type: str | None = None,
    distribution: str = "FullyReplicated",
) -> dict[str, Any]:
    """An InputDataConfig channel over ``s3://<bucket>/<prefix>/`` (no ContentType when None)."""
    channel: dict[str, Any] = {
        "ChannelName": name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": f"s3://{bucket}/{prefix}/",
                "S3DataDistributionType": distribution,
            }
        },
    }
    if content_type is not None:
        channel["ContentType"] = content_type
    return channel
