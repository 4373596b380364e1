"""CreateEndpoint, DescribeEndpoint, ListEndpoints, UpdateEndpoint, UpdateEndpointWeightsAndCapacities, DeleteEndpoint."""

from __future__ import annotations

from typing import Any

from opensage.api.json_protocol import JsonHandler
from opensage.api.sagemaker.endpoint_configs import render_serverless
from opensage.api.sagemaker.listing import list_query
from opensage.api.sagemaker.shapes import tag_map, without_none
from opensage.errors import UnsupportedOperationError, ValidationError
from opensage.services.hosting.config_service import EndpointConfigService
from opensage.services.hosting.endpoint_service import EndpointService
from opensage.services.hosting.models import Endpoint, VariantState


def _check_deployment_config(params: dict[str, Any]) -> None:
    """opensage switches all traffic at once (blue/green) and rolls back a failed update itself."""
    policy = ((params.get("DeploymentConfig") or {}).get("BlueGreenUpdatePolicy") or {}).get(
        "TrafficRoutingConfiguration"
    ) or {}
    if policy.get("Type", "ALL_AT_ONCE") != "ALL_AT_ONCE":
        raise UnsupportedOperationError(
            f"TrafficRoutingConfiguration Type {policy['Type']} is not supported by opensage yet; "
            "updates shift all traffic at once (ALL_AT_ONCE) after the new variants answer"
        )
    if (params.get("DeploymentConfig") or {}).get("RollingUpdatePolicy"):
        raise UnsupportedOperationError(
            "RollingUpdatePolicy is not supported by opensage yet; use blue/green"
        )


def _render_variant(state: VariantState, serving: bool) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "VariantName": state.name,
        "DeployedImages": [
            {
                "SpecifiedImage": image.specified,
                "ResolvedImage": image.resolved,
                "ResolutionTime": image.resolution_time,
            }
            for image in state.images
        ]
        or None,
        "DesiredWeight": state.desired_weight,
    }
    if state.serverless is not None:
        rendered["CurrentServerlessConfig"] = render_serverless(state.serverless) if serving else None
        rendered["DesiredServerlessConfig"] = render_serverless(state.serverless)
    else:
        rendered["DesiredInstanceCount"] = state.desired_instance_count
        if serving:
            rendered["CurrentInstanceCount"] = state.current_instance_count
    if serving:
        rendered["CurrentWeight"] = state.current_weight
    return without_none(rendered)


def render_endpoint(endpoint: Endpoint, configs: EndpointConfigService) -> dict[str, Any]:
    serving = endpoint.status.accepts_traffic()
    rendered: dict[str, Any] = {
        "EndpointName": endpoint.name,
        "EndpointArn": endpoint.arn,
        "EndpointConfigName": endpoint.config_name,
        "ProductionVariants": [_render_variant(state, serving) for state in endpoint.variants],
        "EndpointStatus": endpoint.status.value,
        "FailureReason": endpoint.failure_reason,
        "CreationTime": endpoint.creation_time,
        "LastModifiedTime": endpoint.last_modified_time,
    }
    config = configs.documents.get(endpoint.config_name)
    capture = config.definition.capture if config else None
    if capture is not None:
        rendered["DataCaptureConfig"] = without_none(
            {
                "EnableCapture": capture.enabled,
                "CaptureStatus": "Started" if capture.enabled and serving else "Stopped",
                "CurrentSamplingPercentage": capture.sampling_percentage,
                "DestinationS3Uri": capture.destination,
                "KmsKeyId": capture.kms_key_id,
            }
        )
    if config is not None and config.definition.async_inference is not None:
        spec = config.definition.async_inference
        rendered["AsyncInferenceConfig"] = {
            "OutputConfig": without_none(
                {"S3OutputPath": spec.output_path, "S3FailurePath": spec.failure_path}
            )
        }
    if endpoint.pending_config_name:
        rendered["PendingDeploymentSummary"] = {"EndpointConfigName": endpoint.pending_config_name}
    return without_none(rendered)


def build_handlers(service: EndpointService, configs: EndpointConfigService) -> dict[str, JsonHandler]:
    def create(params: dict[str, Any]) -> dict[str, Any]:
        _check_deployment_config(params)
        endpoint = service.create(params["EndpointName"], params["EndpointConfigName"], tag_map(params))
        return {"EndpointArn": endpoint.arn}

    def describe(params: dict[str, Any]) -> dict[str, Any]:
        return render_endpoint(service.describe(params["EndpointName"]), configs)

    def list_endpoints(params: dict[str, Any]) -> dict[str, Any]:
        endpoints, token = service.list_endpoints(list_query(params))
        summaries = [
            {
                "EndpointName": e.name,
                "EndpointArn": e.arn,
                "CreationTime": e.creation_time,
                "LastModifiedTime": e.last_modified_time,
                "EndpointStatus": e.status.value,
            }
            for e in endpoints
        ]
        return without_none({"Endpoints": summaries, "NextToken": token})

    def update(params: dict[str, Any]) -> dict[str, Any]:
        _check_deployment_config(params)
        if params.get("RetainAllVariantProperties") or params.get("ExcludeRetainedVariantProperties"):
            raise UnsupportedOperationError(
                "RetainAllVariantProperties is not supported by opensage yet; the new configuration's "
                "weights and instance counts apply"
            )
        return {"EndpointArn": service.update(params["EndpointName"], params["EndpointConfigName"]).arn}

    def update_weights(params: dict[str, Any]) -> dict[str, Any]:
        desired: dict[str, tuple[float | None, int | None]] = {}
        for entry in params["DesiredWeightsAndCapacities"]:
            if entry.get("ServerlessUpdateConfig"):
                raise UnsupportedOperationError("ServerlessUpdateConfig is not supported by opensage yet")
            if entry["VariantName"] in desired:
                raise ValidationError(f"Variant {entry['VariantName']} appears more than once")
            desired[entry["VariantName"]] = (entry.get("DesiredWeight"), entry.get("DesiredInstanceCount"))
        return {"EndpointArn": service.update_weights_and_capacities(params["EndpointName"], desired).arn}

    def delete(params: dict[str, Any]) -> dict[str, Any]:
        service.delete(params["EndpointName"])
        return {}

    return {
        "CreateEndpoint": create,
        "DescribeEndpoint": describe,
        "ListEndpoints": list_endpoints,
        "UpdateEndpoint": update,
        "UpdateEndpointWeightsAndCapacities": update_weights,
        "DeleteEndpoint": delete,
    }
