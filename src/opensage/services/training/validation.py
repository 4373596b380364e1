"""Checks on a CreateTrainingJob request beyond what the API model states.

The wire adapter has already checked required members, types, lengths, patterns and enums
against botocore's model. What is left is meaning: which algorithm the image names, S3 URIs
that parse, channel names that are unique, and features opensage does not offer yet —
refused up front with a message that says so, rather than accepted and ignored.
"""

from __future__ import annotations

import re

from opensage.algorithms.registry import algorithm_names, load_algorithm, resolve_training_image
from opensage.errors import LimitExceededError, UnsupportedOperationError, ValidationError
from opensage.naming import parse_s3_uri
from opensage.services.training.models import TrainingJobSpec


def resolve_algorithm(spec: TrainingJobSpec) -> str:
    """The built-in algorithm the request names, by TrainingImage or AlgorithmName."""
    algorithm = spec.algorithm
    if algorithm.training_image and algorithm.algorithm_name:
        raise ValidationError(
            "Specify either TrainingImage or AlgorithmName in AlgorithmSpecification, not both"
        )
    if algorithm.training_image:
        name = resolve_training_image(algorithm.training_image)
        if name is None:
            raise ValidationError(
                f"TrainingImage '{algorithm.training_image}' is not an image opensage can run. opensage runs "
                "without Docker and recognises SageMaker's built-in algorithm images of any region "
                f"(supported today: {', '.join(algorithm_names())}), e.g. "
                "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
            )
        return name
    if algorithm.algorithm_name:
        if algorithm.algorithm_name in algorithm_names():
            return algorithm.algorithm_name
        raise ValidationError(
            f"AlgorithmName '{algorithm.algorithm_name}' is not known; opensage accepts the built-in names "
            f"{', '.join(algorithm_names())} or a TrainingImage URI"
        )
    raise ValidationError("AlgorithmSpecification must name a TrainingImage or an AlgorithmName")


# The SageMaker SDKs set these to run a user's script in a framework image (script mode).
SCRIPT_MODE_HYPERPARAMETERS = ("sagemaker_program", "sagemaker_submit_directory")


def check_spec(spec: TrainingJobSpec, algorithm_name: str, max_hosts: int) -> None:
    algorithm = spec.algorithm
    scripted = [name for name in SCRIPT_MODE_HYPERPARAMETERS if name in spec.hyperparameters]
    if scripted:
        raise UnsupportedOperationError(
            f"Hyperparameter {scripted[0]} asks for script mode (your own training script), which opensage "
            f"does not support yet; the {algorithm_name} image runs as the built-in algorithm without it"
        )
    if algorithm.container_entrypoint or algorithm.container_arguments:
        raise UnsupportedOperationError(
            "ContainerEntrypoint and ContainerArguments (script mode) are not supported by opensage yet; "
            "built-in algorithms run without them"
        )
    _check_channels(spec)
    parse_s3_uri(spec.output.s3_output_path, "OutputDataConfig.S3OutputPath")
    if spec.checkpoint is not None:
        parse_s3_uri(spec.checkpoint.s3_uri, "CheckpointConfig.S3Uri")
    for definition in algorithm.metric_definitions:
        try:
            compiled = re.compile(definition.regex)
        except re.error as exc:
            raise ValidationError(
                f"MetricDefinitions '{definition.name}': the regex does not compile: {exc}"
            ) from exc
        if compiled.groups < 1:
            raise ValidationError(
                f"MetricDefinitions '{definition.name}': the regex needs a capture group for the metric value"
            )
    count = spec.resources.instance_count
    if count < 1:
        raise ValidationError(
            "ResourceConfig.InstanceCount must be at least 1 (InstanceGroups are not supported yet)"
        )
    if count > max_hosts:
        raise LimitExceededError(
            f"InstanceCount {count} exceeds this opensage server's limit of {max_hosts} hosts per job "
            "(OPENSAGE_MAX_HOSTS_PER_JOB)"
        )
    if count > 1 and not load_algorithm(algorithm_name).supports_distributed:
        raise ValidationError(
            f"The {algorithm_name} algorithm trains on one instance only; set InstanceCount to 1"
        )


def _check_channels(spec: TrainingJobSpec) -> None:
    seen: set[str] = set()
    for channel in spec.channels:
        if channel.name in seen:
            raise ValidationError(f"Channel names must be unique; '{channel.name}' appears more than once")
        seen.add(channel.name)
        mode = channel.input_mode or spec.algorithm.training_input_mode
        if mode == "Pipe":
            raise UnsupportedOperationError(
                f"Channel '{channel.name}': Pipe input mode is not supported by opensage yet; "
                "use File or FastFile"
            )
        source = channel.data_source
        if source.s3_data_type not in ("S3Prefix", "ManifestFile"):
            raise UnsupportedOperationError(
                f"Channel '{channel.name}': S3DataType {source.s3_data_type} "
                "is not supported by opensage yet; "
                "use S3Prefix or ManifestFile"
            )
        parse_s3_uri(source.s3_uri, f"Channel '{channel.name}' S3Uri")
