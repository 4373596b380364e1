"""Which AWS service a request is for, read the way AWS's front ends read it.

The SigV4 credential scope (``.../<region>/<service>/aws4_request``, in the Authorization
header or a presigned URL's ``X-Amz-Credential``) names the service; JSON protocols add
``X-Amz-Target``. Unsigned requests are taken as S3, the only API a browser or curl uses.
"""

from __future__ import annotations

import re

from starlette.requests import Request

_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/([^/,\s]+)/aws4_request")
_QUERY_SCOPE = re.compile(r"^[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request$")


def signing_scope(request: Request) -> tuple[str, str] | None:
    """(region, service) of the request's signature, if it is signed."""
    header = request.headers.get("authorization", "")
    match = _SCOPE.search(header)
    if match:
        return match.group(1), match.group(2)
    credential = request.query_params.get("X-Amz-Credential", "")
    match = _QUERY_SCOPE.match(credential)
    if match:
        return match.group(1), match.group(2)
    return None


def target_prefix(request: Request) -> str | None:
    """The service part of ``X-Amz-Target``: ``SageMaker`` of ``SageMaker.ListModels``, and
    ``CloudTrail_20131101`` of the full prefix boto3 sends for some services
    (``com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents``)."""
    target = request.headers.get("x-amz-target")
    if not target:
        return None
    prefix = target.rpartition(".")[0]
    return prefix.rsplit(".", 1)[-1] if prefix else target
