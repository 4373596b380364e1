"""Models, endpoint configurations and endpoints as the hosting services see them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class EndpointStatus(StrEnum):
    OUT_OF_SERVICE = "OutOfService"
    CREATING = "Creating"
    UPDATING = "Updating"
    SYSTEM_UPDATING = "SystemUpdating"
    ROLLING_BACK = "RollingBack"
    IN_SERVICE = "InService"
    DELETING = "Deleting"
    FAILED = "Failed"
    UPDATE_ROLLBACK_FAILED = "UpdateRollbackFailed"

    def accepts_traffic(self) -> bool:
        # An endpoint that is updating keeps serving its current configuration (blue/green).
        return self in (EndpointStatus.IN_SERVICE, EndpointStatus.UPDATING, EndpointStatus.SYSTEM_UPDATING)


@dataclass(frozen=True)
class ContainerDefinition:
    #: The built-in algorithm the Image selects; "" for a framework image that only runs users' code.
    algorithm: str
    image: str | None = None
    model_data_url: str | None = None
    # ModelDataSource.S3DataSource CompressionType None: ModelDataUrl is a prefix of loose files.
    model_data_compressed: bool = True
    environment: dict[str, str] = field(default_factory=dict)
    mode: str = "SingleModel"
    hostname: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    #: The framework of a SageMaker framework image (sklearn, xgboost, pytorch), which runs inference code.
    framework: str | None = None

    @property
    def multi_model(self) -> bool:
        return self.mode == "MultiModel"


@dataclass(frozen=True)
class ModelDefinition:
    """What CreateModel asks for."""

    name: str
    containers: list[ContainerDefinition]
    execution_role_arn: str | None = None
    # True when the request used Containers (an inference pipeline), False for PrimaryContainer.
    pipeline: bool = False
    inference_execution_mode: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Model:
    definition: ModelDefinition
    arn: str
    creation_time: datetime

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def containers(self) -> list[ContainerDefinition]:
        return self.definition.containers


@dataclass(frozen=True)
class ServerlessSpec:
    memory_mb: int
    max_concurrency: int
    provisioned_concurrency: int | None = None


@dataclass(frozen=True)
class VariantSpec:
    name: str
    model_name: str
    initial_instance_count: int | None = None
    instance_type: str | None = None
    initial_weight: float = 1.0
    serverless: ServerlessSpec | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CaptureSpec:
    destination: str
    sampling_percentage: int
    enabled: bool = True
    capture_input: bool = True
    capture_output: bool = True
    csv_content_types: list[str] = field(default_factory=lambda: ["text/csv"])
    json_content_types: list[str] = field(default_factory=lambda: ["application/json"])
    kms_key_id: str | None = None


@dataclass(frozen=True)
class AsyncSpec:
    output_path: str
    failure_path: str | None = None
    max_concurrent_invocations: int | None = None


@dataclass(frozen=True)
class EndpointConfigDefinition:
    """What CreateEndpointConfig asks for."""

    name: str
    variants: list[VariantSpec]
    capture: CaptureSpec | None = None
    async_inference: AsyncSpec | None = None
    kms_key_id: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class EndpointConfig:
    definition: EndpointConfigDefinition
    arn: str
    creation_time: datetime

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def variants(self) -> list[VariantSpec]:
        return self.definition.variants


@dataclass
class DeployedImage:
    specified: str
    resolved: str
    resolution_time: datetime


@dataclass
class VariantState:
    name: str
    current_weight: float
    desired_weight: float
    current_instance_count: int
    desired_instance_count: int
    images: list[DeployedImage] = field(default_factory=list)
    serverless: ServerlessSpec | None = None


@dataclass
class Endpoint:
    name: str
    arn: str
    config_name: str
    status: EndpointStatus
    creation_time: datetime
    last_modified_time: datetime
    variants: list[VariantState] = field(default_factory=list)
    failure_reason: str | None = None
    # The configuration an UpdateEndpoint is moving to, until it is InService.
    pending_config_name: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)
