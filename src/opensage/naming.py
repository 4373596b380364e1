"""ARNs and S3 URIs: how resources are named on the wire."""

from __future__ import annotations

import re
from dataclasses import dataclass

from opensage.errors import ValidationError

_S3_URI = re.compile(r"s3://(?P<bucket>[^/]+)/?(?P<key>.*)", re.DOTALL)


def sagemaker_arn(region: str, account_id: str, resource_type: str, name: str) -> str:
    """``arn:aws:sagemaker:<region>:<account>:<type>/<name>``; AWS lower-cases the name in ARNs."""
    return f"arn:aws:sagemaker:{region}:{account_id}:{resource_type}/{name.lower()}"


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    key: str

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    def join(self, *parts: str) -> S3Uri:
        """This URI as a folder, with ``parts`` appended: s3://b/out + (job, output) -> s3://b/out/job/output."""
        pieces = [self.key.rstrip("/")] if self.key.strip("/") else []
        pieces.extend(part.strip("/") for part in parts if part.strip("/"))
        return S3Uri(self.bucket, "/".join(pieces))


def parse_s3_uri(uri: str, what: str = "S3Uri") -> S3Uri:
    """Parse ``s3://bucket/key``; anything else is a ValidationError that names ``what``."""
    match = _S3_URI.fullmatch(uri)
    if match is None:
        raise ValidationError(f"{what} '{uri}' is not an S3 URI; expected s3://<bucket>/<key or prefix>")
    return S3Uri(match["bucket"], match["key"])
