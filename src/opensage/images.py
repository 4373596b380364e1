"""SageMaker's ECR image URIs: what a TrainingImage or a container's Image names."""

from __future__ import annotations

import re
from dataclasses import dataclass

# SageMaker's ECR image URIs in every partition, as the SDK's image_uris.retrieve builds them.
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?"
    r"/(?P<repository>[^:@]+)(?::(?P<tag>[^@]+))?(?:@sha256:[0-9a-f]{64})?$"
)


@dataclass(frozen=True)
class EcrImage:
    account: str
    region: str
    repository: str
    # None for a bare repository or a digest reference.
    tag: str | None


def parse_ecr_image(uri: str) -> EcrImage | None:
    match = _ECR_IMAGE.match(uri.strip())
    if match is None:
        return None
    return EcrImage(match["account"], match["region"], match["repository"], match["tag"])
