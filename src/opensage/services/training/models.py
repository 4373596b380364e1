"""The training job as the training service sees it: a typed spec and the state it moves through."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opensage.services.jobs import JobStatus

# SageMaker's default when StoppingCondition is left out: one day.
DEFAULT_MAX_RUNTIME_SECONDS = 86_400


# SageMaker's TrainingJobStatus has exactly the values every job kind shares.
TrainingJobStatus = JobStatus


@dataclass(frozen=True)
class MetricDefinition:
    name: str
    regex: str


@dataclass(frozen=True)
class AlgorithmSpec:
    training_input_mode: str
    training_image: str | None = None
    algorithm_name: str | None = None
    metric_definitions: list[MetricDefinition] = field(default_factory=list)
    container_entrypoint: list[str] | None = None
    container_arguments: list[str] | None = None
    enable_metrics_time_series: bool | None = None


@dataclass(frozen=True)
class S3DataSource:
    s3_data_type: str
    s3_uri: str
    distribution: str | None = None
    attribute_names: list[str] | None = None


@dataclass(frozen=True)
class Channel:
    name: str
    data_source: S3DataSource
    content_type: str | None = None
    compression: str | None = None
    record_wrapper: str | None = None
    input_mode: str | None = None


@dataclass(frozen=True)
class OutputConfig:
    s3_output_path: str
    kms_key_id: str | None = None
    compression_type: str | None = None


@dataclass(frozen=True)
class ResourceSpec:
    instance_type: str | None = None
    instance_count: int = 1
    volume_size_gb: int = 30
    keep_alive_seconds: int | None = None


@dataclass(frozen=True)
class StoppingSpec:
    max_runtime_seconds: int = DEFAULT_MAX_RUNTIME_SECONDS
    max_wait_seconds: int | None = None


@dataclass(frozen=True)
class CheckpointSpec:
    s3_uri: str
    local_path: str | None = None


@dataclass(frozen=True)
class TrainingJobSpec:
    """What CreateTrainingJob asked for."""

    name: str
    role_arn: str
    algorithm: AlgorithmSpec
    output: OutputConfig
    resources: ResourceSpec = field(default_factory=ResourceSpec)
    stopping: StoppingSpec = field(default_factory=StoppingSpec)
    hyperparameters: dict[str, str] = field(default_factory=dict)
    channels: list[Channel] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)
    checkpoint: CheckpointSpec | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # Request members opensage accepts and echoes in Describe without acting on them (VpcConfig, ...).
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass
class StatusTransition:
    status: str
    start_time: datetime
    message: str
    end_time: datetime | None = None


@dataclass
class MetricValue:
    name: str
    value: float
    timestamp: datetime


@dataclass
class TrainingJob:
    spec: TrainingJobSpec
    arn: str
    algorithm: str
    job_dir: str
    status: TrainingJobStatus
    secondary_status: str
    creation_time: datetime
    last_modified_time: datetime
    transitions: list[StatusTransition] = field(default_factory=list)
    failure_reason: str | None = None
    model_artifacts: str | None = None
    final_metrics: list[MetricValue] = field(default_factory=list)
    training_start_time: datetime | None = None
    training_end_time: datetime | None = None
    # How many times the job process was started; a restart relaunches a job that never began once.
    launches: int = 0
    # "builtin" (``algorithm`` is its name), "script" or "command" (users' code in ``framework``'s image).
    program: str = "builtin"
    framework: str | None = None
    submit_directory: str | None = None

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def training_seconds(self) -> int | None:
        if self.training_start_time is None or self.training_end_time is None:
            return None
        elapsed = (self.training_end_time - self.training_start_time).total_seconds()
        return max(1, math.ceil(elapsed))
