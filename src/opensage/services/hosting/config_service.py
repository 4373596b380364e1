"""SageMaker endpoint configurations: production variants, data capture and async inference settings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from opensage.errors import AlreadyExistsError, LimitExceededError, UnsupportedOperationError, ValidationError
from opensage.naming import parse_s3_uri, sagemaker_arn
from opensage.services.documents import Documents, Stamp
from opensage.services.hosting.model_service import ModelService
from opensage.services.hosting.models import EndpointConfig, EndpointConfigDefinition, VariantSpec
from opensage.settings import Settings
from opensage.store import ListQuery, ResourceRepository

KIND = "endpoint-config"


def _stamp(config: EndpointConfig) -> Stamp:
    return Stamp(config.name, config.arn, "Created", config.creation_time, config.creation_time)


class EndpointConfigService:
    def __init__(
        self,
        settings: Settings,
        repository: ResourceRepository,
        models: ModelService,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._models = models
        self._clock = clock
        self.documents = Documents(repository, KIND, EndpointConfig, _stamp)

    def arn(self, name: str) -> str:
        return sagemaker_arn(self._settings.region, self._settings.account_id, "endpoint-config", name)

    def create(self, config: EndpointConfigDefinition, tags: dict[str, str]) -> EndpointConfig:
        if config.extras.get("ShadowProductionVariants"):
            raise UnsupportedOperationError("ShadowProductionVariants are not supported by opensage yet")
        names = [variant.name for variant in config.variants]
        if len(set(names)) != len(names):
            raise ValidationError("VariantName must be unique within an endpoint configuration")
        for variant in config.variants:
            self._check_variant(variant)
        if config.capture is not None:
            parse_s3_uri(config.capture.destination, "DataCaptureConfig.DestinationS3Uri")
        if config.async_inference is not None:
            parse_s3_uri(config.async_inference.output_path, "AsyncInferenceConfig.OutputConfig.S3OutputPath")
        created = EndpointConfig(config, self.arn(config.name), self._clock())
        try:
            return self.documents.create(created, tags)
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(
                f'Cannot create already existing endpoint configuration "{created.arn}".'
            ) from exc

    def describe(self, name: str) -> EndpointConfig:
        found = self.documents.get(name)
        if found is None:
            raise ValidationError(f'Could not find endpoint configuration "{self.arn(name)}".')
        return found

    def list_configs(self, query: ListQuery) -> tuple[list[EndpointConfig], str | None]:
        return self.documents.page(query)

    def delete(self, name: str) -> None:
        if not self.documents.delete(name):
            raise ValidationError(f'Could not find endpoint configuration "{self.arn(name)}".')

    def _check_variant(self, variant: VariantSpec) -> None:
        self._models.describe(variant.model_name)
        if variant.serverless is not None:
            if variant.initial_instance_count is not None or variant.instance_type is not None:
                raise ValidationError(
                    f"Variant '{variant.name}': a serverless variant takes ServerlessConfig only, "
                    "not InstanceType or InitialInstanceCount"
                )
            return
        if not variant.initial_instance_count or not variant.instance_type:
            raise ValidationError(
                f"Variant '{variant.name}' needs InstanceType and InitialInstanceCount (or a ServerlessConfig)"
            )
        limit = self._settings.max_hosts_per_job
        if variant.initial_instance_count > limit:
            raise LimitExceededError(
                f"Variant '{variant.name}': InitialInstanceCount {variant.initial_instance_count} exceeds this "
                f"server's limit of {limit} instances (OPENSAGE_MAX_HOSTS_PER_JOB)"
            )
