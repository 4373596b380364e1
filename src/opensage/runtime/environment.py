"""The SM_* environment of a job host, as SageMaker's training toolkit defines it.

Hyperparameters arrive as strings; the toolkit decodes each one as JSON when it can (the
SDKs JSON-encode framework hyperparameters), so ``SM_HPS`` and ``SM_USER_ARGS`` carry the
decoded values. Those named ``sagemaker_*`` are the SDK's settings for the toolkit (the
entry point, the code's S3 location, ...): they go to ``SM_FRAMEWORK_PARAMS``, not to the
script. Paths point into the host's local layout, or /opt/ml where that is mounted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from opensage.runtime.layout import HostLayout
from opensage.runtime.usercode.inherited import inherited_environment


def decode_hyperparameter(value: str) -> Any:
    try:
        return json.loads(value)
    except (json.JSONDecodeError, TypeError):
        return value


def decode_text_hyperparameter(value: str) -> str:
    """A string hyperparameter as the SageMaker SDKs send it JSON-encoded (``"\\"train.py\\""``), or bare."""
    decoded = decode_hyperparameter(value)
    return decoded if isinstance(decoded, str) else value


def _as_argument(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


# Hyperparameters SageMaker's SDKs set for the training toolkit itself, never passed to the script.
FRAMEWORK_PREFIX = "sagemaker_"


def split_hyperparameters(hyperparameters: dict[str, str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the user's hyperparameters, the toolkit's ``sagemaker_*`` ones), decoded."""
    decoded = {name: decode_hyperparameter(value) for name, value in hyperparameters.items()}
    user = {name: value for name, value in decoded.items() if not name.startswith(FRAMEWORK_PREFIX)}
    framework = {name: value for name, value in decoded.items() if name.startswith(FRAMEWORK_PREFIX)}
    return user, framework


def command_line_value(value: Any) -> str:
    """A hyperparameter's value on the script's command line, as the training toolkit writes it."""
    if isinstance(value, dict):
        return ",".join(f"{key}={item}" for key, item in sorted(value.items()))
    return _as_argument(value)


def command_line_arguments(user_hyperparameters: dict[str, Any]) -> list[str]:
    """``--name value`` pairs, sorted by name; a one-letter name gets one dash (``-C 0.5``), as in the toolkit."""
    arguments: list[str] = []
    for name in sorted(user_hyperparameters):
        flag = f"--{name}" if len(name) > 1 else f"-{name}"
        arguments += [flag, command_line_value(user_hyperparameters[name])]
    return arguments


@dataclass(frozen=True)
class HostEnvironment:
    """Everything the SM_* variables describe for one host."""

    layout: HostLayout
    job_name: str
    job_arn: str
    hyperparameters: dict[str, str]
    input_data_config: dict[str, dict[str, Any]]
    hosts: list[str]
    current_host: str
    instance_type: str
    num_cpus: int
    master_address: str = "127.0.0.1"
    master_port: int = 0
    user_environment: dict[str, str] = field(default_factory=dict)

    @property
    def resource_config(self) -> dict[str, Any]:
        return {
            "current_host": self.current_host,
            "current_instance_type": self.instance_type,
            "current_group_name": "homogeneousCluster",
            "hosts": self.hosts,
            "instance_groups": [
                {
                    "instance_group_name": "homogeneousCluster",
                    "instance_type": self.instance_type,
                    "hosts": self.hosts,
                }
            ],
            "network_interface_name": "lo",
        }

    def variables(self) -> dict[str, str]:
        layout = self.layout
        decoded, framework = split_hyperparameters(self.hyperparameters)
        user_args = command_line_arguments(decoded)
        channels = sorted(self.input_data_config)
        variables = {
            "TRAINING_JOB_NAME": self.job_name,
            "TRAINING_JOB_ARN": self.job_arn,
            "SM_MODEL_DIR": str(layout.model_dir),
            "SM_INPUT_DIR": str(layout.input_dir),
            "SM_INPUT_CONFIG_DIR": str(layout.config_dir),
            "SM_OUTPUT_DIR": str(layout.output_dir),
            "SM_OUTPUT_DATA_DIR": str(layout.output_data_dir),
            "SM_OUTPUT_INTERMEDIATE_DIR": str(layout.output_dir / "intermediate"),
            "SM_CHECKPOINT_DIR": str(layout.checkpoint_dir),
            "SM_CHANNELS": json.dumps(channels),
            "SM_HPS": json.dumps(decoded),
            "SM_USER_ARGS": json.dumps(user_args),
            "SM_FRAMEWORK_PARAMS": json.dumps(framework),
            "SM_HOSTS": json.dumps(self.hosts),
            "SM_CURRENT_HOST": self.current_host,
            "SM_CURRENT_INSTANCE_TYPE": self.instance_type,
            "SM_NUM_CPUS": str(self.num_cpus),
            "SM_NUM_GPUS": "0",
            "SM_NUM_NEURONS": "0",
            "SM_LOG_LEVEL": "20",
            "SM_NETWORK_INTERFACE_NAME": "lo",
            "SM_INPUT_DATA_CONFIG": json.dumps(self.input_data_config),
            "SM_RESOURCE_CONFIG": json.dumps(self.resource_config),
            "SM_MASTER_ADDR": self.master_address,
            "SM_MASTER_PORT": str(self.master_port),
            # Python scripts print as they go, so logs and metrics arrive live.
            "PYTHONUNBUFFERED": "1",
        }
        for channel in channels:
            variables[f"SM_CHANNEL_{channel.upper()}"] = str(layout.channel_dir(channel))
        for name, value in decoded.items():
            variables[f"SM_HP_{name.upper()}"] = _as_argument(value)
        variables["SM_TRAINING_ENV"] = json.dumps(self._training_env(decoded, framework, channels, user_args))
        return variables

    def process_environment(self) -> dict[str, str]:
        """The platform's own environment, then the user's Environment, then SM_* (which wins)."""
        merged = inherited_environment()
        merged.update(self.user_environment)
        merged.update(self.variables())
        return merged

    def _training_env(
        self, decoded: dict[str, Any], framework: dict[str, Any], channels: list[str], user_args: list[str]
    ) -> dict[str, Any]:
        layout = self.layout
        return {
            "job_name": self.job_name,
            "current_host": self.current_host,
            "hosts": self.hosts,
            "master_hostname": self.hosts[0],
            "is_master": self.current_host == self.hosts[0],
            "hyperparameters": decoded,
            "additional_framework_parameters": framework,
            "channel_input_dirs": {name: str(layout.channel_dir(name)) for name in channels},
            "input_data_config": self.input_data_config,
            "resource_config": self.resource_config,
            "model_dir": str(layout.model_dir),
            "input_dir": str(layout.input_dir),
            "input_config_dir": str(layout.config_dir),
            "output_dir": str(layout.output_dir),
            "output_data_dir": str(layout.output_data_dir),
            "num_cpus": self.num_cpus,
            "num_gpus": 0,
            "user_entry_point_args": user_args,
            "log_level": 20,
            "network_interface_name": "lo",
        }
