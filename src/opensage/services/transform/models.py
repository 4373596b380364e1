"""The transform job as the transform service sees it: a typed spec and the state it moves through.

Defaults are SageMaker's where it documents one (MaxPayloadInMB 6, InputFilter ``$``,
AssembleWith None, ModelClientConfig 600 s and 3 retries) and opensage's where it leaves
the choice to the service: MaxConcurrentTransforms 0 or absent runs one request at a time
per instance, and BatchStrategy absent batches records (MultiRecord).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from opensage.services.hosting.models import ContainerDefinition
from opensage.services.jobs import JobStatus

DEFAULT_MAX_PAYLOAD_MB = 6
DEFAULT_INVOCATION_TIMEOUT_SECONDS = 600
DEFAULT_INVOCATION_MAX_RETRIES = 3


# SageMaker's TransformJobStatus has exactly the values every job kind shares.
TransformJobStatus = JobStatus


@dataclass(frozen=True)
class TransformInputSpec:
    s3_data_type: str
    s3_uri: str
    content_type: str | None = None
    compression: str | None = None
    split_type: str | None = None

    @property
    def effective_split(self) -> str:
        return self.split_type or "None"


@dataclass(frozen=True)
class TransformOutputSpec:
    s3_output_path: str
    accept: str | None = None
    assemble_with: str | None = None
    kms_key_id: str | None = None


@dataclass(frozen=True)
class TransformResourcesSpec:
    instance_type: str
    instance_count: int = 1
    # VolumeKmsKeyId, TransformAmiVersion: accepted and echoed; a local instance has neither.
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DataProcessingSpec:
    input_filter: str = "$"
    output_filter: str = "$"
    join_source: str = "None"

    @property
    def joins_input(self) -> bool:
        return self.join_source == "Input"


@dataclass(frozen=True)
class ModelClientSpec:
    invocations_timeout_seconds: int = DEFAULT_INVOCATION_TIMEOUT_SECONDS
    invocations_max_retries: int = DEFAULT_INVOCATION_MAX_RETRIES


@dataclass(frozen=True)
class TransformJobSpec:
    """What CreateTransformJob asked for."""

    name: str
    model_name: str
    input: TransformInputSpec
    output: TransformOutputSpec
    resources: TransformResourcesSpec
    max_concurrent_transforms: int | None = None
    max_payload_mb: int | None = None
    batch_strategy: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    data_processing: DataProcessingSpec | None = None
    model_client: ModelClientSpec | None = None
    tags: dict[str, str] = field(default_factory=dict)
    # Request members opensage accepts and echoes in Describe without acting on them (ExperimentConfig).
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_concurrency(self) -> int:
        return self.max_concurrent_transforms or 1

    @property
    def effective_payload_mb(self) -> int:
        return DEFAULT_MAX_PAYLOAD_MB if self.max_payload_mb is None else self.max_payload_mb

    @property
    def multi_record(self) -> bool:
        return self.batch_strategy != "SingleRecord"

    @property
    def effective_data_processing(self) -> DataProcessingSpec:
        return self.data_processing or DataProcessingSpec()

    @property
    def effective_model_client(self) -> ModelClientSpec:
        return self.model_client or ModelClientSpec()


@dataclass
class TransformJob:
    spec: TransformJobSpec
    arn: str
    job_dir: str
    status: TransformJobStatus
    creation_time: datetime
    last_modified_time: datetime
    # The model's containers as they were when the job was created: deleting the model later
    # does not change a job that uses it.
    model_arn: str = ""
    containers: list[ContainerDefinition] = field(default_factory=list)
    failure_reason: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    # How many times the job process was started; a restart relaunches a job that never began once.
    launches: int = 0

    @property
    def name(self) -> str:
        return self.spec.name
