"""SageMaker models: one container or an inference pipeline of up to 15, each a built-in algorithm."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from opensage.algorithms.base import ServingAlgorithm
from opensage.algorithms.registry import algorithm_names, load_algorithm, resolve_training_image
from opensage.errors import (
    AlreadyExistsError,
    NoSuchBucket,
    NoSuchKey,
    UnsupportedOperationError,
    ValidationError,
)
from opensage.naming import parse_s3_uri, sagemaker_arn
from opensage.objects.base import ObjectStore
from opensage.services.documents import Documents, Stamp
from opensage.services.hosting.models import ContainerDefinition, Model, ModelDefinition
from opensage.settings import Settings
from opensage.store import ListQuery, ResourceRepository

KIND = "model"
MAX_CONTAINERS = 15


def _stamp(model: Model) -> Stamp:
    return Stamp(model.name, model.arn, "Created", model.creation_time, model.creation_time)


class ModelService:
    def __init__(
        self,
        settings: Settings,
        repository: ResourceRepository,
        objects: ObjectStore,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._objects = objects
        self._clock = clock
        self.documents = Documents(repository, KIND, Model, _stamp)

    def arn(self, name: str) -> str:
        return sagemaker_arn(self._settings.region, self._settings.account_id, "model", name)

    def create(self, definition: ModelDefinition, tags: dict[str, str]) -> Model:
        """Resolve and check each container's algorithm and model data, then store the model."""
        if not definition.containers:
            raise ValidationError("Specify PrimaryContainer or Containers")
        if len(definition.containers) > MAX_CONTAINERS:
            raise ValidationError(f"An inference pipeline has at most {MAX_CONTAINERS} containers")
        if definition.inference_execution_mode == "Direct":
            raise UnsupportedOperationError(
                "InferenceExecutionConfig Mode Direct is not supported by opensage yet; use Serial"
            )
        containers = [self._check_container(c, definition.pipeline) for c in definition.containers]
        checked = replace(definition, containers=containers)
        created = Model(checked, self.arn(definition.name), self._clock())
        try:
            return self.documents.create(created, tags)
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(f'Cannot create already existing model "{created.arn}".') from exc

    def describe(self, name: str) -> Model:
        found = self.documents.get(name)
        if found is None:
            raise ValidationError(f'Could not find model "{self.arn(name)}".')
        return found

    def list_models(self, query: ListQuery) -> tuple[list[Model], str | None]:
        return self.documents.page(query)

    def delete(self, name: str) -> None:
        if not self.documents.delete(name):
            raise ValidationError(f'Could not find model "{self.arn(name)}".')

    def _check_container(self, container: ContainerDefinition, pipeline: bool) -> ContainerDefinition:
        if container.extras.get("ModelPackageName"):
            raise UnsupportedOperationError(
                "Containers from ModelPackageName are not supported by opensage yet"
            )
        if not container.image:
            raise ValidationError("Each container needs an Image")
        algorithm = resolve_training_image(container.image)
        if algorithm is None or not isinstance(load_algorithm(algorithm), ServingAlgorithm):
            raise ValidationError(
                f"Image '{container.image}' is not an image opensage can host. opensage runs without Docker and "
                f"hosts SageMaker's built-in algorithm images of any region (today: {', '.join(algorithm_names())})"
            )
        if container.model_data_url is None:
            raise ValidationError(
                f"The {algorithm} container needs ModelDataUrl: built-in algorithms serve a model"
            )
        location = parse_s3_uri(container.model_data_url, "ModelDataUrl")
        if container.multi_model:
            if pipeline:
                raise ValidationError("A multi-model container cannot be part of an inference pipeline")
            if not location.key.endswith("/") and location.key:
                raise ValidationError(
                    "For Mode MultiModel, ModelDataUrl must be the S3 prefix holding the models, ending with '/'"
                )
        elif container.model_data_compressed:
            try:
                self._objects.head_object(location.bucket, location.key)
            except (NoSuchBucket, NoSuchKey) as exc:
                raise ValidationError(f"Could not find model data at {container.model_data_url}.") from exc
        return replace(container, algorithm=algorithm)
