"""The SageMaker control-plane API (JSON 1.1, ``X-Amz-Target: SageMaker.<Operation>``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opensage.api.json_protocol import JsonHandler
from opensage.api.sagemaker import endpoint_configs, endpoints, models, processing, tags, training, transform

if TYPE_CHECKING:
    from opensage.platform import Platform


def build_handlers(platform: Platform) -> dict[str, JsonHandler]:
    return {
        **training.build_handlers(platform.training),
        **tags.build_handlers(platform.tags),
        **models.build_handlers(platform.models),
        **endpoint_configs.build_handlers(platform.endpoint_configs),
        **endpoints.build_handlers(platform.endpoints, platform.endpoint_configs),
        **transform.build_handlers(platform.transform),
        **processing.build_handlers(platform.processing),
    }
