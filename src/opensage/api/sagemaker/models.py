"""CreateModel, DescribeModel, ListModels and DeleteModel on the wire."""

from __future__ import annotations

from typing import Any

from opensage.api.json_protocol import JsonHandler
from opensage.api.sagemaker.listing import list_query
from opensage.api.sagemaker.shapes import tag_map, without_none
from opensage.errors import ValidationError
from opensage.services.hosting.model_service import ModelService
from opensage.services.hosting.models import ContainerDefinition, Model, ModelDefinition

_HANDLED_MODEL = {
    "ModelName",
    "PrimaryContainer",
    "Containers",
    "ExecutionRoleArn",
    "InferenceExecutionConfig",
    "Tags",
}
_HANDLED_CONTAINER = {"Image", "ModelDataUrl", "ModelDataSource", "Environment", "Mode", "ContainerHostname"}


def parse_container(raw: dict[str, Any]) -> ContainerDefinition:
    url = raw.get("ModelDataUrl")
    compressed = True
    source = (raw.get("ModelDataSource") or {}).get("S3DataSource")
    if source is not None:
        if url is not None:
            raise ValidationError("Specify ModelDataUrl or ModelDataSource, not both")
        url = source["S3Uri"]
        compressed = source.get("CompressionType", "None") == "Gzip"
        if not compressed and source.get("S3DataType") == "S3Object":
            raise ValidationError("An uncompressed ModelDataSource must be an S3Prefix of the model's files")
    return ContainerDefinition(
        algorithm="",
        image=raw.get("Image"),
        model_data_url=url,
        model_data_compressed=compressed,
        environment=dict(raw.get("Environment") or {}),
        mode=raw.get("Mode", "SingleModel"),
        hostname=raw.get("ContainerHostname"),
        extras={key: value for key, value in raw.items() if key not in _HANDLED_CONTAINER},
    )


def parse_create(params: dict[str, Any]) -> ModelDefinition:
    primary, pipeline = params.get("PrimaryContainer"), params.get("Containers")
    if (primary is None) == (pipeline is None):
        raise ValidationError("Specify exactly one of PrimaryContainer and Containers")
    raw_containers = [primary] if primary is not None else list(pipeline or [])
    return ModelDefinition(
        name=params["ModelName"],
        containers=[parse_container(container) for container in raw_containers],
        execution_role_arn=params.get("ExecutionRoleArn"),
        pipeline=pipeline is not None,
        inference_execution_mode=(params.get("InferenceExecutionConfig") or {}).get("Mode"),
        extras={key: value for key, value in params.items() if key not in _HANDLED_MODEL},
    )


def render_container(container: ContainerDefinition) -> dict[str, Any]:
    rendered = {**container.extras, "Image": container.image, "Mode": container.mode}
    if container.model_data_compressed:
        rendered["ModelDataUrl"] = container.model_data_url
    else:
        rendered["ModelDataSource"] = {
            "S3DataSource": {
                "S3Uri": container.model_data_url,
                "S3DataType": "S3Prefix",
                "CompressionType": "None",
            }
        }
    rendered["Environment"] = container.environment or None
    rendered["ContainerHostname"] = container.hostname
    return without_none(rendered)


def render_model(model: Model) -> dict[str, Any]:
    definition = model.definition
    rendered: dict[str, Any] = {"EnableNetworkIsolation": False, **definition.extras}
    rendered.update(
        {
            "ModelName": model.name,
            "ModelArn": model.arn,
            "CreationTime": model.creation_time,
            "ExecutionRoleArn": definition.execution_role_arn,
        }
    )
    containers = [render_container(container) for container in model.containers]
    if definition.pipeline:
        rendered["Containers"] = containers
    else:
        rendered["PrimaryContainer"] = containers[0]
    if definition.inference_execution_mode:
        rendered["InferenceExecutionConfig"] = {"Mode": definition.inference_execution_mode}
    return without_none(rendered)


def build_handlers(service: ModelService) -> dict[str, JsonHandler]:
    def create(params: dict[str, Any]) -> dict[str, Any]:
        return {"ModelArn": service.create(parse_create(params), tag_map(params)).arn}

    def describe(params: dict[str, Any]) -> dict[str, Any]:
        return render_model(service.describe(params["ModelName"]))

    def list_models(params: dict[str, Any]) -> dict[str, Any]:
        models, token = service.list_models(list_query(params))
        summaries = [
            {"ModelName": m.name, "ModelArn": m.arn, "CreationTime": m.creation_time} for m in models
        ]
        return without_none({"Models": summaries, "NextToken": token})

    def delete(params: dict[str, Any]) -> dict[str, Any]:
        service.delete(params["ModelName"])
        return {}

    return {
        "CreateModel": create,
        "DescribeModel": describe,
        "ListModels": list_models,
        "DeleteModel": delete,
    }
