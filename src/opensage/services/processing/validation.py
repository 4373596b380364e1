"""Checks on a CreateProcessingJob request beyond what the API model states.

The wire adapter has checked required members, types, lengths, patterns and enums against
botocore's model. What is left is meaning — which framework the image names, LocalPaths
under /opt/ml/processing/ that are unique, names that are unique, S3 URIs that parse —
and the features opensage does not offer, refused with a message that says so rather than
accepted and ignored.
"""

from __future__ import annotations

from pathlib import PurePosixPath

from opensage.errors import LimitExceededError, UnsupportedOperationError, ValidationError
from opensage.naming import parse_s3_uri
from opensage.runtime.frameworks import FrameworkImage, missing_framework, resolve_framework_image
from opensage.services.processing.models import ProcessingInputSpec, ProcessingJobSpec, ProcessingOutputSpec

PROCESSING_ROOT = PurePosixPath("/opt/ml/processing")

_RECOGNISED_IMAGES = (
    "scikit-learn (sagemaker-scikit-learn, the image of the SDK's SKLearnProcessor), "
    "XGBoost (sagemaker-xgboost), PyTorch (pytorch-training, pytorch-inference) and "
    "TensorFlow (tensorflow-training, tensorflow-inference), from any region"
)


def resolve_image(image: str) -> FrameworkImage:
    """The SageMaker framework image ``image`` names; ValidationError if opensage cannot stand in for it."""
    framework = resolve_framework_image(image)
    if framework is None:
        raise ValidationError(
            f"AppSpecification.ImageUri '{image}' is not an image opensage can run. opensage runs without "
            "Docker: a processing job runs its ContainerEntrypoint on opensage's own Python in place of one "
            f"of SageMaker's framework images — {_RECOGNISED_IMAGES}"
        )
    problem = missing_framework(framework.framework)
    if problem is not None:
        raise ValidationError(problem)
    return framework


def container_path(path: str, what: str) -> str:
    """``path`` normalised, when it is a folder under /opt/ml/processing/; ValidationError otherwise."""
    pure = PurePosixPath(path)
    if (
        not path.startswith(f"{PROCESSING_ROOT}/")
        or ".." in pure.parts
        or len(pure.parts) <= len(PROCESSING_ROOT.parts)
    ):
        raise ValidationError(
            f"{what} '{path}' must be an absolute path of a folder under /opt/ml/processing/ "
            "(for example /opt/ml/processing/input/data), without '..'"
        )
    return str(pure)


def check_spec(spec: ProcessingJobSpec, max_hosts: int) -> FrameworkImage:
    """Refuse what opensage cannot run as asked; the framework image the job runs in otherwise."""
    framework = resolve_image(spec.app.image_uri)
    if not spec.app.container_entrypoint:
        raise ValidationError(
            "AppSpecification.ContainerEntrypoint is required: opensage runs no image ENTRYPOINT of its own, "
            'so say what to run, e.g. ["python3", "/opt/ml/processing/input/code/preprocess.py"]'
        )
    count = spec.cluster.instance_count
    if count > max_hosts:
        raise LimitExceededError(
            f"InstanceCount {count} exceeds this opensage server's limit of {max_hosts} instances per job "
            "(OPENSAGE_MAX_HOSTS_PER_JOB)"
        )
    _check_unique("ProcessingInput", [item.name for item in spec.inputs])
    _check_unique("ProcessingOutput", [item.name for item in spec.outputs])
    paths = [_checked_input(item) for item in spec.inputs]
    paths += [_checked_output(item) for item in spec.outputs]
    _check_unique_paths([path for path in paths if path is not None])
    return framework


def _check_unique(kind: str, names: list[str]) -> None:
    seen: set[str] = set()
    for name in names:
        if name in seen:
            raise ValidationError(f"{kind} names must be unique; '{name}' appears more than once")
        seen.add(name)


def _checked_input(item: ProcessingInputSpec) -> tuple[str, str] | None:
    """Check one input; its (description, normalised LocalPath), or None when it has no LocalPath."""
    what = f"ProcessingInput '{item.name}'"
    if item.dataset_definition is not None:
        raise UnsupportedOperationError(
            f"{what}: DatasetDefinition (Athena and Redshift queries) is not supported by opensage; "
            "put the data in S3 and use an S3Input"
        )
    source = item.s3
    if source is None:
        raise ValidationError(f"{what} needs an S3Input")
    if source.input_mode == "Pipe":
        raise UnsupportedOperationError(
            f"{what}: S3InputMode Pipe is not supported by opensage yet; use File"
        )
    parse_s3_uri(source.s3_uri, f"{what} S3Uri")
    if source.local_path is None:
        if not item.app_managed:
            raise ValidationError(f"{what}: S3Input.LocalPath is required unless AppManaged is true")
        return None
    return what, container_path(source.local_path, f"{what} LocalPath")


def _checked_output(item: ProcessingOutputSpec) -> tuple[str, str] | None:
    what = f"ProcessingOutput '{item.name}'"
    if item.feature_store_output is not None:
        raise UnsupportedOperationError(
            f"{what}: FeatureStoreOutput is not supported by opensage yet; write to an S3Output"
        )
    target = item.s3
    if target is None:
        raise ValidationError(f"{what} needs an S3Output")
    parse_s3_uri(target.s3_uri, f"{what} S3Uri")
    if target.local_path is None:
        if not item.app_managed:
            raise ValidationError(f"{what}: S3Output.LocalPath is required unless AppManaged is true")
        return None
    return what, container_path(target.local_path, f"{what} LocalPath")


def _check_unique_paths(paths: list[tuple[str, str]]) -> None:
    owners: dict[str, str] = {}
    for what, path in paths:
        if path in owners:
            raise ValidationError(
                f"LocalPath '{path}' is used by both {owners[path]} and {what}; "
                "every input and output needs a LocalPath of its own"
            )
        owners[path] = what
