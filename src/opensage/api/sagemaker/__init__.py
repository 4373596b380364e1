"""The SageMaker control-plane API (JSON 1.1, ``X-Amz-Target: SageMaker.<Operation>``)."""

from __future__ import annotations

from opensage.api.json_protocol import JsonHandler
from opensage.api.sagemaker import tags, training
from opensage.services.tags import TagService
from opensage.services.training.service import TrainingService


def build_handlers(training_service: TrainingService, tag_service: TagService) -> dict[str, JsonHandler]:
    return {**training.build_handlers(training_service), **tags.build_handlers(tag_service)}
