"""What a processing job process is told to do, written by the control plane to ``<job dir>/job.json``.

Everything is resolved before the job starts — LocalPaths normalised, defaults filled in —
so the job process needs no database and carries on if the server restarts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from opensage.executor.job_process import read_job_file, write_job_file
from opensage.executor.jobspec import ChannelSpec
from opensage.security.keyring import KeyRingSpec


@dataclass(frozen=True)
class InputRun:
    """One S3Input, with SageMaker's defaults filled in."""

    name: str
    s3_uri: str
    s3_data_type: str  # S3Prefix | ManifestFile
    # Where the container sees it, under /opt/ml/processing/; None for an AppManaged input without one.
    local_path: str | None
    distribution: str = "FullyReplicated"  # FullyReplicated | ShardedByS3Key
    compression: str = "None"  # None | Gzip
    input_mode: str = "File"
    # The application fetches the data itself: opensage downloads nothing.
    app_managed: bool = False

    def channel(self) -> ChannelSpec:
        """The input as executor.staging downloads it."""
        return ChannelSpec(
            name=self.name,
            s3_data_type=self.s3_data_type,
            s3_uri=self.s3_uri,
            distribution=self.distribution,
            compression=self.compression,
        )


@dataclass(frozen=True)
class OutputRun:
    name: str
    s3_uri: str
    local_path: str | None
    upload_mode: str = "EndOfJob"  # EndOfJob | Continuous
    # The application uploads it itself: opensage uploads nothing.
    app_managed: bool = False

    @property
    def uploaded(self) -> bool:
        return not self.app_managed and self.local_path is not None


@dataclass(frozen=True)
class ProcessingRun:
    """One processing job, as its job process runs it."""

    name: str
    arn: str
    job_dir: str
    objects_url: str
    logs_root: str
    log_group: str
    # Epoch seconds of the job's creation: log streams are named <job>/algo-<n>-<epoch>.
    created_epoch: int
    role_arn: str
    image_uri: str
    framework: str
    entrypoint: list[str]
    arguments: list[str]
    instance_count: int
    instance_type: str
    volume_size_gb: int
    max_runtime_seconds: int
    inputs: list[InputRun] = field(default_factory=list)
    outputs: list[OutputRun] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    output_kms_key_id: str | None = None
    # Echoed into processingjobconfig.json as the request had them.
    network_config: dict[str, Any] | None = None
    stop_grace_seconds: float = 30.0
    # How often Continuous outputs are looked at for files that are new or changed.
    continuous_interval_seconds: float = 1.0
    # ProcessingOutputConfig.KmsKeyId as a key ARN: outputs are uploaded SSE-KMS under it.
    output_kms_key_arn: str | None = None
    # The KMS keys (sealed) the job may use to read encrypted inputs and to write outputs.
    keyring: KeyRingSpec | None = None
    kind: str = "processing"


_ADAPTER: TypeAdapter[ProcessingRun] = TypeAdapter(ProcessingRun)


def write_run(run: ProcessingRun) -> Path:
    return write_job_file(Path(run.job_dir), _ADAPTER.dump_json(run, indent=2))


def read_run(job_dir: Path) -> ProcessingRun:
    return _ADAPTER.validate_python(read_job_file(job_dir))
