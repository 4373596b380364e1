"""What a transform job process is told to do, written by the control plane to ``<job dir>/job.json``.

Everything is resolved before the job starts — the model's containers with their merged
environments, the effective payload limit and concurrency — so the job process needs no
database and carries on if the server restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter

from opensage.executor.job_process import read_job_file, write_job_file
from opensage.security.keyring import KeyRingSpec


@dataclass(frozen=True)
class ServedContainer:
    """One container of the model: its built-in algorithm or framework, model data and environment."""

    algorithm: str
    model_data_url: str
    compressed: bool = True
    environment: dict[str, str] = field(default_factory=dict)
    hostname: str | None = None
    #: A framework image's framework: the container may serve users' inference code.
    framework: str | None = None


@dataclass(frozen=True)
class TransformRun:
    name: str
    arn: str
    job_dir: str
    objects_url: str
    logs_root: str
    log_group: str
    # Epoch seconds of the job's creation: log streams are <job>/<instance id>-<epoch>.
    created_epoch: int
    instance_count: int
    instance_type: str
    containers: list[ServedContainer]
    # Unpacked models (and code archives), shared with endpoints so one model is unpacked once.
    model_cache_dir: str
    s3_data_type: str  # S3Prefix | ManifestFile
    s3_uri: str
    output_path: str
    content_type: str | None = None
    compression: str = "None"  # None | Gzip
    split_type: str = "None"  # None | Line | RecordIO
    accept: str | None = None
    assemble_with: str = "None"  # None | Line
    multi_record: bool = True
    # 0: no limit (SplitType None only).
    max_payload_bytes: int = 6 * 1024 * 1024
    max_concurrent: int = 1
    input_filter: str = "$"
    output_filter: str = "$"
    join_input: bool = False
    invocation_timeout_seconds: float = 600.0
    invocation_max_retries: int = 3
    server_start_timeout: float = 120.0
    stop_grace_seconds: float = 30.0
    # requirements.txt environments of inference code, shared with training and endpoints.
    environments_cache: str | None = None
    # TransformOutput.KmsKeyId as a key ARN: outputs are written SSE-KMS under it.
    output_kms_key_arn: str | None = None
    # The KMS keys (sealed) the job may use to read encrypted models and inputs and to write outputs.
    keyring: KeyRingSpec | None = None
    kind: str = "transform"


_ADAPTER: TypeAdapter[TransformRun] = TypeAdapter(TransformRun)


def write_run(run: TransformRun) -> Path:
    return write_job_file(Path(run.job_dir), _ADAPTER.dump_json(run, indent=2))


def read_run(job_dir: Path) -> TransformRun:
    return _ADAPTER.validate_python(read_job_file(job_dir))
