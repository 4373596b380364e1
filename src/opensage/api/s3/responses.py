"""S3 responses: request ids, XML bodies and the ``<Error>`` document botocore parses."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from starlette.responses import Response

from opensage.api.s3 import xml
from opensage.errors import AuthenticationError, InternalError, KmsError, OpenSageError

XML_CONTENT_TYPE = "application/xml"


@dataclass(frozen=True)
class RequestIds:
    """What S3 calls ``x-amz-request-id`` and ``x-amz-id-2`` (the host id)."""

    request_id: str
    host_id: str

    @classmethod
    def new(cls, request_id: str | None = None) -> RequestIds:
        """Fresh ids; ``request_id`` when the request already has one (the audit trail's)."""
        host_id = base64.b64encode(secrets.token_bytes(48)).decode("ascii")
        return cls(request_id or secrets.token_hex(8).upper(), host_id)

    def apply(self, response: Response) -> Response:
        response.headers["x-amz-request-id"] = self.request_id
        response.headers["x-amz-id-2"] = self.host_id
        return response


def xml_response(
    root: xml.Element, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    return Response(xml.to_bytes(root), status_code=status_code, headers=headers, media_type=XML_CONTENT_TYPE)


def empty_response(status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status_code, headers=headers)


def error_code(error: OpenSageError) -> str:
    # errors.InternalError carries the JSON protocols' code; S3 calls the same thing InternalError.
    if isinstance(error, InternalError):
        return "InternalError"
    # A signature refused while the body streams (a chunk's): S3's name, as at the front door.
    if isinstance(error, AuthenticationError):
        return error.s3_code
    # A KMS key that cannot be used: S3 reports KMS's code with a "KMS." prefix.
    return f"KMS.{error.code}" if isinstance(error, KmsError) else error.code


def error_response(error: OpenSageError, resource: str, ids: RequestIds, is_head: bool) -> Response:
    """The S3 error document, or a bare status for HEAD (botocore then reports the status as the code)."""
    if is_head:
        return empty_response(error.http_status, {"content-length": "0"})
    root = xml.document("Error", namespaced=False)
    xml.add(root, "Code", error_code(error))
    xml.add(root, "Message", error.message)
    xml.add(root, "Resource", resource)
    xml.add(root, "RequestId", ids.request_id)
    xml.add(root, "HostId", ids.host_id)
    return xml_response(root, error.http_status)
