"""CreateEndpointConfig, DescribeEndpointConfig, ListEndpointConfigs and DeleteEndpointConfig on the wire."""

from __future__ import annotations

from typing import Any

from opensage.api.json_protocol import JsonHandler
from opensage.api.sagemaker.listing import list_query
from opensage.api.sagemaker.shapes import tag_map, without_none
from opensage.services.hosting.config_service import EndpointConfigService
from opensage.services.hosting.models import (
    AsyncSpec,
    CaptureSpec,
    EndpointConfig,
    EndpointConfigDefinition,
    ServerlessSpec,
    VariantSpec,
)

_HANDLED = {
    "EndpointConfigName",
    "ProductionVariants",
    "DataCaptureConfig",
    "AsyncInferenceConfig",
    "KmsKeyId",
    "Tags",
}
_HANDLED_VARIANT = {
    "VariantName",
    "ModelName",
    "InitialInstanceCount",
    "InstanceType",
    "InitialVariantWeight",
    "ServerlessConfig",
}


def parse_serverless(raw: dict[str, Any] | None) -> ServerlessSpec | None:
    if raw is None:
        return None
    return ServerlessSpec(raw["MemorySizeInMB"], raw["MaxConcurrency"], raw.get("ProvisionedConcurrency"))


def render_serverless(spec: ServerlessSpec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    return without_none(
        {
            "MemorySizeInMB": spec.memory_mb,
            "MaxConcurrency": spec.max_concurrency,
            "ProvisionedConcurrency": spec.provisioned_concurrency,
        }
    )


def _parse_variant(raw: dict[str, Any]) -> VariantSpec:
    return VariantSpec(
        name=raw["VariantName"],
        model_name=raw.get("ModelName", ""),
        initial_instance_count=raw.get("InitialInstanceCount"),
        instance_type=raw.get("InstanceType"),
        initial_weight=raw.get("InitialVariantWeight", 1.0),
        serverless=parse_serverless(raw.get("ServerlessConfig")),
        extras={key: value for key, value in raw.items() if key not in _HANDLED_VARIANT},
    )


def _parse_capture(raw: dict[str, Any] | None) -> CaptureSpec | None:
    if raw is None:
        return None
    modes = {option["CaptureMode"] for option in raw.get("CaptureOptions", [])}
    header = raw.get("CaptureContentTypeHeader") or {}
    return CaptureSpec(
        destination=raw["DestinationS3Uri"],
        sampling_percentage=raw["InitialSamplingPercentage"],
        enabled=raw.get("EnableCapture", True),
        capture_input=bool(modes & {"Input", "InputAndOutput"}) or not modes,
        capture_output=bool(modes & {"Output", "InputAndOutput"}) or not modes,
        csv_content_types=header.get("CsvContentTypes", ["text/csv"]),
        json_content_types=header.get("JsonContentTypes", ["application/json"]),
        kms_key_id=raw.get("KmsKeyId"),
    )


def render_capture_options(spec: CaptureSpec) -> list[dict[str, str]]:
    options = []
    if spec.capture_input:
        options.append({"CaptureMode": "Input"})
    if spec.capture_output:
        options.append({"CaptureMode": "Output"})
    return options


def _parse_async(raw: dict[str, Any] | None) -> AsyncSpec | None:
    if raw is None:
        return None
    output = raw["OutputConfig"]
    return AsyncSpec(
        output_path=output.get("S3OutputPath", ""),
        failure_path=output.get("S3FailurePath"),
        max_concurrent_invocations=(raw.get("ClientConfig") or {}).get("MaxConcurrentInvocationsPerInstance"),
    )


def parse_create(params: dict[str, Any]) -> EndpointConfigDefinition:
    return EndpointConfigDefinition(
        name=params["EndpointConfigName"],
        variants=[_parse_variant(variant) for variant in params["ProductionVariants"]],
        capture=_parse_capture(params.get("DataCaptureConfig")),
        async_inference=_parse_async(params.get("AsyncInferenceConfig")),
        kms_key_id=params.get("KmsKeyId"),
        extras={key: value for key, value in params.items() if key not in _HANDLED},
    )


def render_config(config: EndpointConfig) -> dict[str, Any]:
    definition = config.definition
    rendered: dict[str, Any] = {**definition.extras}
    rendered.update(
        {
            "EndpointConfigName": config.name,
            "EndpointConfigArn": config.arn,
            "CreationTime": config.creation_time,
            "KmsKeyId": definition.kms_key_id,
            "ProductionVariants": [
                without_none(
                    {
                        **variant.extras,
                        "VariantName": variant.name,
                        "ModelName": variant.model_name,
                        "InitialInstanceCount": variant.initial_instance_count,
                        "InstanceType": variant.instance_type,
                        "InitialVariantWeight": variant.initial_weight,
                        "ServerlessConfig": render_serverless(variant.serverless),
                    }
                )
                for variant in definition.variants
            ],
        }
    )
    capture = definition.capture
    if capture is not None:
        rendered["DataCaptureConfig"] = without_none(
            {
                "EnableCapture": capture.enabled,
                "InitialSamplingPercentage": capture.sampling_percentage,
                "DestinationS3Uri": capture.destination,
                "KmsKeyId": capture.kms_key_id,
                "CaptureOptions": render_capture_options(capture),
                "CaptureContentTypeHeader": {
                    "CsvContentTypes": capture.csv_content_types,
                    "JsonContentTypes": capture.json_content_types,
                },
            }
        )
    if definition.async_inference is not None:
        spec = definition.async_inference
        rendered["AsyncInferenceConfig"] = without_none(
            {
                "OutputConfig": without_none(
                    {"S3OutputPath": spec.output_path, "S3FailurePath": spec.failure_path}
                ),
                "ClientConfig": without_none(
                    {"MaxConcurrentInvocationsPerInstance": spec.max_concurrent_invocations}
                )
                or None,
            }
        )
    return without_none(rendered)


def build_handlers(service: EndpointConfigService) -> dict[str, JsonHandler]:
    def create(params: dict[str, Any]) -> dict[str, Any]:
        return {"EndpointConfigArn": service.create(parse_create(params), tag_map(params)).arn}

    def describe(params: dict[str, Any]) -> dict[str, Any]:
        return render_config(service.describe(params["EndpointConfigName"]))

    def list_configs(params: dict[str, Any]) -> dict[str, Any]:
        configs, token = service.list_configs(list_query(params))
        summaries = [
            {"EndpointConfigName": c.name, "EndpointConfigArn": c.arn, "CreationTime": c.creation_time}
            for c in configs
        ]
        return without_none({"EndpointConfigs": summaries, "NextToken": token})

    def delete(params: dict[str, Any]) -> dict[str, Any]:
        service.delete(params["EndpointConfigName"])
        return {}

    return {
        "CreateEndpointConfig": create,
        "DescribeEndpointConfig": describe,
        "ListEndpointConfigs": list_configs,
        "DeleteEndpointConfig": delete,
    }
