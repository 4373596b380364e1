"""Checks on a CreateTrainingJob request beyond what the API model states.

The wire adapter has already checked required members, types, lengths, patterns and enums
against botocore's model. What is left is meaning: which algorithm the image names, S3 URIs
that parse, channel names that are unique, and features opensage does not offer yet —
refused up front with a message that says so, rather than accepted and ignored.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from opensage.algorithms.registry import (
    algorithm_names,
    load_algorithm,
    not_implemented_message,
    planned_algorithm_names,
    planned_image,
    resolve_training_image,
)
from opensage.errors import LimitExceededError, UnsupportedOperationError, ValidationError
from opensage.naming import parse_s3_uri
from opensage.runtime.environment import decode_text_hyperparameter
from opensage.runtime.frameworks import Framework, missing_framework, resolve_framework_image
from opensage.services.training.models import TrainingJobSpec


@dataclass(frozen=True)
class Program:
    """What a training job runs: ``builtin`` (an algorithm), ``script`` or ``command`` (users' code)."""

    mode: str
    # The built-in algorithm's name, or the framework's for users' code.
    algorithm: str
    framework: Framework | None = None
    submit_directory: str | None = None


def _unknown_image(image: str) -> ValidationError:
    return ValidationError(
        f"TrainingImage '{image}' is not an image opensage can run. opensage runs without Docker: it "
        f"recognises SageMaker's built-in algorithm images ({', '.join(algorithm_names())}) and its "
        "framework images (scikit-learn, XGBoost, PyTorch) of any region. To run your own code, use a "
        "framework image with your script (sagemaker_program) or a ContainerEntrypoint"
    )


def resolve_program(spec: TrainingJobSpec) -> Program:
    """The built-in algorithm or the user's code the request asks for, by TrainingImage or AlgorithmName."""
    algorithm = spec.algorithm
    if algorithm.training_image and algorithm.algorithm_name:
        raise ValidationError(
            "Specify either TrainingImage or AlgorithmName in AlgorithmSpecification, not both"
        )
    if algorithm.algorithm_name:
        if algorithm.algorithm_name in algorithm_names():
            return Program("builtin", algorithm.algorithm_name)
        if algorithm.algorithm_name in planned_algorithm_names():
            raise ValidationError(not_implemented_message(algorithm.algorithm_name))
        raise ValidationError(
            f"AlgorithmName '{algorithm.algorithm_name}' is not known; opensage accepts the built-in names "
            f"{', '.join(algorithm_names())} or a TrainingImage URI"
        )
    image = algorithm.training_image
    if not image:
        raise ValidationError("AlgorithmSpecification must name a TrainingImage or an AlgorithmName")
    builtin = resolve_training_image(image)
    planned = planned_image(image)
    if planned is not None:
        raise ValidationError(not_implemented_message(planned))
    framework = resolve_framework_image(image)
    program = spec.hyperparameters.get("sagemaker_program")
    user_code = program is not None or bool(algorithm.container_entrypoint)
    if not user_code:
        if builtin is not None:
            return Program("builtin", builtin)
        if framework is not None:
            raise ValidationError(
                f"The {framework.info.display} image runs your code: set the hyperparameters sagemaker_program "
                "(the entry point) and sagemaker_submit_directory (an S3 tar.gz of your code), or give "
                "ContainerEntrypoint"
            )
        raise _unknown_image(image)
    if framework is None:
        raise _unknown_image(image)
    problem = missing_framework(framework.framework)
    if problem is not None:
        raise ValidationError(problem)
    submit = spec.hyperparameters.get("sagemaker_submit_directory")
    submit_directory = decode_text_hyperparameter(submit) if submit else None
    if submit_directory is not None:
        parse_s3_uri(submit_directory, "sagemaker_submit_directory")
    mode = "command" if algorithm.container_entrypoint else "script"
    return Program(mode, framework.framework.value, framework.framework, submit_directory)


def check_spec(spec: TrainingJobSpec, program: Program, max_hosts: int) -> None:
    algorithm = spec.algorithm
    if algorithm.container_arguments and not algorithm.container_entrypoint:
        raise ValidationError("ContainerArguments need a ContainerEntrypoint to pass them to")
    _check_channels(spec, program)
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
    if count > 1 and program.mode == "builtin" and not load_algorithm(program.algorithm).supports_distributed:
        raise ValidationError(
            f"The {program.algorithm} algorithm trains on one instance only; set InstanceCount to 1"
        )


def _pipe_supported(program: Program) -> bool:
    """Pipe mode is fed by the built-in algorithms' job host, for algorithms that document it."""
    if program.mode != "builtin":
        return False
    return load_algorithm(program.algorithm).supports_pipe


def _check_channels(spec: TrainingJobSpec, program: Program) -> None:
    seen: set[str] = set()
    for channel in spec.channels:
        if channel.name in seen:
            raise ValidationError(f"Channel names must be unique; '{channel.name}' appears more than once")
        seen.add(channel.name)
        mode = channel.input_mode or spec.algorithm.training_input_mode
        if mode == "Pipe" and not _pipe_supported(program):
            raise UnsupportedOperationError(
                f"Channel '{channel.name}': Pipe input mode is not supported by opensage for "
                f"{'this algorithm' if program.mode == 'builtin' else 'your own code'} yet; use File or FastFile"
            )
        source = channel.data_source
        if source.s3_data_type not in ("S3Prefix", "ManifestFile"):
            raise UnsupportedOperationError(
                f"Channel '{channel.name}': S3DataType {source.s3_data_type} "
                "is not supported by opensage yet; "
                "use S3Prefix or ManifestFile"
            )
        parse_s3_uri(source.s3_uri, f"Channel '{channel.name}' S3Uri")
