"""SageMaker models: one container or an inference pipeline of up to 15.

A container is a built-in algorithm's image, or a framework image (scikit-learn, XGBoost,
PyTorch) serving the user's inference code (``runtime.serving.scripts``). The XGBoost image is
both: it runs code when SAGEMAKER_PROGRAM is set or the model holds ``code/inference.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from opensage.algorithms.base import ServingAlgorithm
from opensage.algorithms.registry import (
    algorithm_names,
    load_algorithm,
    not_implemented_message,
    planned_image,
    resolve_training_image,
)
from opensage.errors import (
    AlreadyExistsError,
    NoSuchBucket,
    NoSuchKey,
    UnsupportedOperationError,
    ValidationError,
)
from opensage.naming import parse_s3_uri, sagemaker_arn
from opensage.objects.base import ObjectStore
from opensage.runtime.frameworks import Framework, FrameworkImage, missing_framework, resolve_framework_image
from opensage.runtime.serving.staging import PROGRAM_ENV, SUBMIT_DIRECTORY_ENV, code_source
from opensage.services.documents import Documents, Stamp
from opensage.services.hosting.models import ContainerDefinition, Model, ModelDefinition
from opensage.settings import Settings
from opensage.store import ListQuery, ResourceRepository

KIND = "model"
MAX_CONTAINERS = 15
# Frameworks whose images serve an inference script (TensorFlow's runs TensorFlow Serving instead).
SCRIPT_FRAMEWORKS = (Framework.SKLEARN, Framework.XGBOOST, Framework.PYTORCH)


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
        planned = planned_image(container.image)
        if planned is not None:
            raise ValidationError(not_implemented_message(planned))
        algorithm = resolve_training_image(container.image)
        framework = resolve_framework_image(container.image)
        if framework is not None and (algorithm is None or PROGRAM_ENV in container.environment):
            checked = self._check_script(container, framework, algorithm)
            no_data = (
                f"The {framework.info.display} container needs ModelDataUrl: opensage serves the model "
                "archive its inference code loads"
            )
        elif algorithm is not None and isinstance(load_algorithm(algorithm), ServingAlgorithm):
            checked = replace(
                container, algorithm=algorithm, framework=framework.framework.value if framework else None
            )
            no_data = f"The {algorithm} container needs ModelDataUrl: built-in algorithms serve a model"
        else:
            raise ValidationError(
                f"Image '{container.image}' is not an image opensage can host. opensage runs without Docker and "
                f"hosts SageMaker's built-in algorithm images of any region (today: {', '.join(algorithm_names())}) "
                "and the scikit-learn, XGBoost and PyTorch framework images with your inference code"
            )
        self._check_model_data(checked, pipeline, no_data)
        return checked

    def _check_script(
        self, container: ContainerDefinition, framework: FrameworkImage, algorithm: str | None
    ) -> ContainerDefinition:
        if framework.framework not in SCRIPT_FRAMEWORKS:
            raise UnsupportedOperationError(
                f"The {framework.info.display} inference image (TensorFlow Serving) is not supported by opensage "
                "yet; the scikit-learn, XGBoost and PyTorch images serve inference scripts"
            )
        problem = missing_framework(framework.framework)
        if problem is not None:
            raise ValidationError(problem)
        if container.multi_model:
            raise UnsupportedOperationError(
                f"Mode MultiModel with the {framework.info.display} image's inference scripts is not supported "
                "by opensage yet; host each model on its own endpoint, or use a built-in algorithm image"
            )
        source = code_source(container.environment)
        if source.archive is not None:
            location = parse_s3_uri(source.archive, SUBMIT_DIRECTORY_ENV)
            try:
                self._objects.head_object(location.bucket, location.key)
            except (NoSuchBucket, NoSuchKey) as exc:
                raise ValidationError(
                    f"Could not find the code archive {SUBMIT_DIRECTORY_ENV} at {source.archive}."
                ) from exc
        return replace(container, algorithm=algorithm or "", framework=framework.framework.value)

    def _check_model_data(self, container: ContainerDefinition, pipeline: bool, no_data: str) -> None:
        if container.model_data_url is None:
            raise ValidationError(no_data)
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
