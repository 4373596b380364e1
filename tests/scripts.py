"""Helpers for script-mode tests: users' source folders as SageMaker's SDKs upload them."""

from __future__ import annotations

import io
import tarfile
import textwrap
import zipfile
from pathlib import Path
from typing import Any

from tests.support import ROLE_ARN, TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

SKLEARN_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
PYTORCH_IMAGE = "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3.0-cpu-py311"
XGBOOST_FRAMEWORK_IMAGE = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def source_tarball(files: dict[str, str | bytes]) -> bytes:
    """A sourcedir.tar.gz as the SDK packs ``source_dir``: the files at the archive's top level."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, content in files.items():
            raw = textwrap.dedent(content).encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size = len(raw)
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(raw))
    return buffer.getvalue()


def tiny_wheel(name: str, module_source: str) -> tuple[str, bytes]:
    """A pure-Python wheel (file name, bytes) holding one module: requirements.txt tests need no index."""
    filename = f"{name}-1.0-py3-none-any.whl"
    info = f"{name}-1.0.dist-info"
    files = {
        f"{name}.py": module_source,
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: opensage-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{path},,\n" for path in [*files, f"{info}/RECORD"])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return filename, buffer.getvalue()


def script_job(
    name: str,
    image: str,
    program: str,
    submit_directory: str,
    channels: dict[str, str],
    output: str,
    hyperparameters: dict[str, str] | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """A CreateTrainingJob request as the SageMaker SDK sends it for a framework estimator."""
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": ROLE_ARN,
        "AlgorithmSpecification": {"TrainingImage": image, "TrainingInputMode": "File"},
        # The SDK JSON-encodes every hyperparameter value.
        "HyperParameters": {
            "sagemaker_program": f'"{program}"',
            "sagemaker_submit_directory": f'"{submit_directory}"',
            **(hyperparameters or {}),
        },
        "InputDataConfig": [
            {"ChannelName": channel, "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": uri}}}
            for channel, uri in channels.items()
        ],
        "OutputDataConfig": {"S3OutputPath": output},
        "ResourceConfig": {"InstanceType": "ml.m5.large", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }
    request.update(overrides)
    return request


def read_archive(s3: Any, uri: str) -> dict[str, bytes]:
    """The files in a model.tar.gz (or output.tar.gz) at ``uri``."""
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    raw = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(raw)) as tar:
        return {
            member.name.removeprefix("./"): tar.extractfile(member).read()  # type: ignore[union-attr]
            for member in tar.getmembers()
            if member.isfile()
        }


def upload(s3: Any, bucket: str, key: str, body: bytes) -> str:
    s3.put_object(Bucket=bucket, Key=key, Body=body)
    return f"s3://{bucket}/{key}"


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Files (dedented) under ``root``, as a user's source folder on disk."""
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content))
    return root


def sagemaker_sdk_session(endpoint_url: str, monkeypatch: Any, config_dir: Path, bucket: str) -> Any:
    """A SageMaker SDK v3 session set up as the README says: environment configuration only.

    AWS_ENDPOINT_URL, a region and the test server's admin key; telemetry turned off in the SDK's
    config file; ``default_bucket`` given, as the SDK would otherwise ask STS for the account.
    """
    config = config_dir / "sagemaker-config.yaml"
    config.write_text(
        "SchemaVersion: '1.0'\nSageMaker:\n  PythonSDK:\n    Modules:\n      TelemetryOptOut: true\n"
    )
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": TEST_ACCESS_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": TEST_SECRET_ACCESS_KEY,
        "SAGEMAKER_USER_CONFIG_OVERRIDE": str(config),
    }.items():
        monkeypatch.setenv(name, value)
    import boto3
    from sagemaker.core.helper.session_helper import Session

    return Session(boto_session=boto3.Session(), default_bucket=bucket)
