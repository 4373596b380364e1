"""What a job process is told to do: everything it needs, written to ``<job dir>/job.json``.

The control plane resolves names, images and defaults before a job starts; the job process
only follows this description, so it needs no database access and survives a server restart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter

from opensage.executor.job_process import read_job_file, write_job_file
from opensage.security.keyring import KeyRingSpec


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    s3_data_type: str  # S3Prefix | ManifestFile
    s3_uri: str
    distribution: str = "FullyReplicated"  # FullyReplicated | ShardedByS3Key
    content_type: str | None = None
    compression: str = "None"  # None | Gzip
    record_wrapper: str = "None"
    input_mode: str = "File"


@dataclass(frozen=True)
class MetricSpec:
    name: str
    regex: str


@dataclass(frozen=True)
class TrainingRun:
    """One training job, as its job process runs it."""

    name: str
    arn: str
    job_dir: str
    objects_url: str
    logs_root: str
    log_group: str
    # Epoch seconds of the job's creation: log streams are named <job>/algo-<n>-<epoch>.
    created_epoch: int
    instance_count: int
    instance_type: str
    algorithm: str
    hyperparameters: dict[str, str]
    channels: list[ChannelSpec]
    # Where model.tar.gz and output.tar.gz go: <S3OutputPath>/<job>/output
    output_uri: str
    output_compression: str = "GZIP"
    environment: dict[str, str] = field(default_factory=dict)
    metric_definitions: list[MetricSpec] = field(default_factory=list)
    max_runtime_seconds: int | None = None
    checkpoint_uri: str | None = None
    checkpoint_local_path: str | None = None
    # Host algo-1's rendezvous port for distributed training, reserved by the executor.
    master_port: int = 0
    stop_grace_seconds: float = 30.0
    kind: str = "training"
    # What runs on each host: a built-in "algorithm" (above), a "script" (sagemaker_program in a
    # framework image, run as SageMaker's training toolkit does), or a "command" (the request's
    # ContainerEntrypoint and ContainerArguments, as the SageMaker SDK v3 sends them).
    program: str = "builtin"
    framework: str | None = None
    submit_directory: str | None = None
    container_entrypoint: list[str] | None = None
    container_arguments: list[str] | None = None
    # Where requirements.txt environments are cached (shared by jobs with the same file).
    environments_cache: str | None = None
    # OutputDataConfig.KmsKeyId as a key ARN: model and output archives are encrypted under it.
    output_kms_key_arn: str | None = None
    # The KMS keys (sealed) the job may use to read encrypted inputs and write encrypted outputs.
    keyring: KeyRingSpec | None = None


_ADAPTER: TypeAdapter[TrainingRun] = TypeAdapter(TrainingRun)


def write_run(run: TrainingRun) -> Path:
    return write_job_file(Path(run.job_dir), _ADAPTER.dump_json(run, indent=2))


def read_run(job_dir: Path) -> TrainingRun:
    return _ADAPTER.validate_python(read_job_file(job_dir))
