"""The processing job as the processing service sees it: a typed spec and the state it moves through."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opensage.services.jobs import JobStatus

# SageMaker's default when StoppingCondition is left out: one day.
DEFAULT_MAX_RUNTIME_SECONDS = 86_400

# SageMaker's ProcessingJobStatus has exactly the values every job kind shares.
ProcessingJobStatus = JobStatus


@dataclass(frozen=True)
class S3InputSpec:
    s3_uri: str
    s3_data_type: str
    local_path: str | None = None
    input_mode: str | None = None
    distribution: str | None = None
    compression: str | None = None


@dataclass(frozen=True)
class ProcessingInputSpec:
    name: str
    s3: S3InputSpec | None = None
    app_managed: bool | None = None
    # Kept as sent so that the refusal can say what was asked for.
    dataset_definition: dict[str, Any] | None = None


@dataclass(frozen=True)
class S3OutputSpec:
    s3_uri: str
    upload_mode: str
    local_path: str | None = None


@dataclass(frozen=True)
class ProcessingOutputSpec:
    name: str
    s3: S3OutputSpec | None = None
    app_managed: bool | None = None
    feature_store_output: dict[str, Any] | None = None


@dataclass(frozen=True)
class ClusterSpec:
    volume_size_gb: int
    instance_count: int = 1
    instance_type: str | None = None
    # VolumeKmsKeyId, InstancePreferences, ...: accepted and echoed; a local instance has neither.
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AppSpec:
    image_uri: str
    container_entrypoint: list[str] | None = None
    container_arguments: list[str] | None = None


@dataclass(frozen=True)
class ProcessingJobSpec:
    """What CreateProcessingJob asked for."""

    name: str
    role_arn: str
    app: AppSpec
    cluster: ClusterSpec
    inputs: list[ProcessingInputSpec] = field(default_factory=list)
    outputs: list[ProcessingOutputSpec] = field(default_factory=list)
    # Whether ProcessingOutputConfig was sent at all (Describe echoes it only then).
    has_output_config: bool = False
    output_kms_key_id: str | None = None
    max_runtime_seconds: int | None = None
    environment: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    # Request members opensage accepts and echoes in Describe without acting on them
    # (NetworkConfig, ExperimentConfig).
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_max_runtime(self) -> int:
        return self.max_runtime_seconds or DEFAULT_MAX_RUNTIME_SECONDS


@dataclass
class ProcessingJob:
    spec: ProcessingJobSpec
    arn: str
    job_dir: str
    status: ProcessingJobStatus
    creation_time: datetime
    last_modified_time: datetime
    # The framework the image selects (sklearn, xgboost, pytorch, tensorflow).
    framework: str
    failure_reason: str | None = None
    exit_message: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    # How many times the job process was started; a restart relaunches a job that never began once.
    launches: int = 0

    @property
    def name(self) -> str:
        return self.spec.name
