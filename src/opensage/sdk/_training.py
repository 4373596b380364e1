"""Training jobs: the CreateTrainingJob requests the SDK builds, and ``TrainingRun``, a job by name."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from opensage.runtime.environment import decode_text_hyperparameter
from opensage.sdk._errors import OpenSageSDKError, translated
from opensage.sdk._jobs import TRAINING_JOBS, Job
from opensage.sdk._names import unique_name
from opensage.sdk._progress import Steps

if TYPE_CHECKING:
    from opensage.sdk._hosting import Endpoint, Serverless

#: A hyperparameter's value: text, a number, a boolean, or a list of them (``eval_metric=["auc", "logloss"]``).
HyperparameterValue: TypeAlias = str | int | float | bool | Sequence[str | int | float]

# Built-in XGBoost logs one line per boosting round, "[<round from 0>]\t<metrics>".
_XGBOOST_ROUND = re.compile(r"^\[(\d+)\]\t")


@dataclass(frozen=True)
class Channel:
    name: str
    uri: str
    content_type: str | None = None


@dataclass(frozen=True)
class JobResources:
    """Where and how long a job runs (recorded by opensage; each instance is a process here)."""

    instance_type: str = "ml.m5.xlarge"
    instance_count: int = 1
    volume_size_gb: int = 30
    max_runtime_seconds: int = 24 * 60 * 60


def builtin_value(value: HyperparameterValue) -> str:
    """A hyperparameter as built-in algorithms read it: ``true``, ``0.1``, ``auc,logloss``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return repr(value)
    return ",".join(builtin_value(item) for item in value)


def script_hyperparameters(values: Mapping[str, Any]) -> dict[str, str]:
    """Hyperparameters for users' code, JSON-encoded one by one as the SageMaker Python SDK does."""
    return {name: json.dumps(value) for name, value in values.items()}


def training_request(
    *,
    name: str,
    role: str,
    image: str,
    hyperparameters: Mapping[str, str],
    channels: Sequence[Channel],
    output_path: str,
    resources: JobResources,
    metric_definitions: Mapping[str, str] | None = None,
    environment: Mapping[str, str] | None = None,
    tags: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """A CreateTrainingJob request, File mode, S3Prefix channels."""
    algorithm: dict[str, Any] = {"TrainingImage": image, "TrainingInputMode": "File"}
    if metric_definitions:
        algorithm["MetricDefinitions"] = [
            {"Name": metric, "Regex": regex} for metric, regex in metric_definitions.items()
        ]
    request: dict[str, Any] = {
        "TrainingJobName": name,
        "RoleArn": role,
        "AlgorithmSpecification": algorithm,
        "HyperParameters": dict(hyperparameters),
        "OutputDataConfig": {"S3OutputPath": output_path},
        "ResourceConfig": {
            "InstanceType": resources.instance_type,
            "InstanceCount": resources.instance_count,
            "VolumeSizeInGB": resources.volume_size_gb,
        },
        "StoppingCondition": {"MaxRuntimeInSeconds": resources.max_runtime_seconds},
    }
    if channels:
        request["InputDataConfig"] = [_channel(channel) for channel in channels]
    if environment:
        request["Environment"] = dict(environment)
    if tags:
        request["Tags"] = [{"Key": key, "Value": value} for key, value in tags.items()]
    return request


def _channel(channel: Channel) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ChannelName": channel.name,
        "DataSource": {
            "S3DataSource": {
                "S3DataType": "S3Prefix",
                "S3Uri": channel.uri,
                "S3DataDistributionType": "FullyReplicated",
            }
        },
    }
    if channel.content_type:
        entry["ContentType"] = channel.content_type
    return entry


class TrainingRun(Job):
    """A training job: what ``Session.train`` and ``Session.run_script`` return.

    Example::

        run = session.train("xgboost", train=df, label="target", objective="binary:logistic", num_round=50)
        run.status        # "Completed"
        run.metrics       # {"train:logloss": 0.05, ...}
        run.model_data    # "s3://opensage-default/xgboost-.../output/model.tar.gz"
        endpoint = run.deploy()
    """

    _kind = TRAINING_JOBS

    @property
    def secondary_status(self) -> str:
        """SageMaker's finer status: ``Starting``, ``Downloading``, ``Training``, ``Uploading``, ..."""
        return str(self._current().get("SecondaryStatus", ""))

    @property
    def metrics(self) -> dict[str, float]:
        """The final value of each metric (FinalMetricDataList); empty until the job ends."""
        found = self._current().get("FinalMetricDataList", [])
        return {str(metric["MetricName"]): float(metric["Value"]) for metric in found}

    @property
    def model_data(self) -> str | None:
        """The S3 URI of the trained ``model.tar.gz``, once the job has saved one."""
        artifacts = self._current().get("ModelArtifacts") or {}
        uri = artifacts.get("S3ModelArtifacts")
        return None if uri is None else str(uri)

    @translated
    def create_model(self, name: str | None = None) -> str:
        """Register the trained model with CreateModel (same image as training); return its name."""
        description = self._current()
        model_data = self.model_data
        if model_data is None:
            raise OpenSageSDKError(
                f"Training job {self.name} has no model yet (it is {description['TrainingJobStatus']}); "
                "wait() for it to complete first"
            )
        container: dict[str, Any] = {
            "Image": description["AlgorithmSpecification"]["TrainingImage"],
            "ModelDataUrl": model_data,
        }
        environment = self._serving_environment(description)
        if environment:
            container["Environment"] = environment
        model_name = name or unique_name(self.name)
        self._session.sagemaker.create_model(
            ModelName=model_name, ExecutionRoleArn=self._session.role, PrimaryContainer=container
        )
        return model_name

    def deploy(
        self,
        name: str | None = None,
        *,
        instance_count: int = 1,
        instance_type: str = "ml.m5.large",
        serverless: Serverless | bool = False,
        wait: bool = True,
    ) -> Endpoint:
        """Host the trained model behind an endpoint and (by default) wait until it is InService.

        The model, the endpoint configuration and the endpoint all get ``name`` (default: a
        unique name after the job's). ``serverless=True`` (or a ``Serverless(...)``) makes it a
        serverless endpoint, warm while it is used.

        Example::

            endpoint = run.deploy()
            endpoint.predict(X_test)       # numpy array of predictions
            endpoint.delete()
        """
        from opensage.sdk._hosting import deploy_model

        endpoint_name = name or unique_name(self.name)
        model_name = self.create_model(endpoint_name)
        return deploy_model(
            self._session,
            model_name,
            endpoint_name,
            instance_count=instance_count,
            instance_type=instance_type,
            serverless=serverless,
            wait=wait,
        )

    def _serving_environment(self, description: Mapping[str, Any]) -> dict[str, str]:
        # A script-mode model is served by the same script (its model_fn, predict_fn...), as
        # the SageMaker Python SDK arranges it: the program and its code go to the container.
        hyperparameters: Mapping[str, str] = description.get("HyperParameters", {})
        if "sagemaker_program" not in hyperparameters:
            return {}
        environment = {
            "SAGEMAKER_PROGRAM": decode_text_hyperparameter(hyperparameters["sagemaker_program"]),
            "SAGEMAKER_REGION": self._session.region,
        }
        submit = hyperparameters.get("sagemaker_submit_directory")
        if submit:
            environment["SAGEMAKER_SUBMIT_DIRECTORY"] = decode_text_hyperparameter(submit)
        return environment

    def _steps(self) -> Steps | None:
        from opensage.images import parse_ecr_image

        description = self._current()
        image = parse_ecr_image(description.get("AlgorithmSpecification", {}).get("TrainingImage", ""))
        hyperparameters: Mapping[str, str] = description.get("HyperParameters", {})
        rounds = hyperparameters.get("num_round", "")
        builtin_xgboost = image is not None and image.repository in ("sagemaker-xgboost", "xgboost")
        if builtin_xgboost and "sagemaker_program" not in hyperparameters and rounds.isdigit():
            return Steps(int(rounds), _XGBOOST_ROUND, label="round", offset=1)
        return None

    def _summary(self, description: dict[str, Any]) -> str:
        summary = super()._summary(description)
        metrics = description.get("FinalMetricDataList", [])
        if metrics:
            shown = "  ".join(f"{metric['MetricName']}={metric['Value']:.6g}" for metric in metrics)
            summary += f"  {shown}"
        return summary
