"""Which S3 operation a request is: by path level (service, bucket, object), method and sub-resource."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.responses import Response

from opensage.api.s3 import buckets, encryption, listing, multipart, objects
from opensage.api.s3.context import Query, S3Request
from opensage.errors import InvalidArgument, MethodNotAllowed, S3NotImplemented

Handler = Callable[[S3Request], Awaitable[Response]]

# Sub-resources S3 defines that opensage does not implement; a request naming one is refused
# rather than served as the plain operation it would otherwise look like.
UNSUPPORTED_SUBRESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "analytics",
        "attributes",
        "cors",
        "intelligent-tiering",
        "inventory",
        "legal-hold",
        "lifecycle",
        "logging",
        "metadataConfiguration",
        "metadataTable",
        "metrics",
        "notification",
        "object-lock",
        "ownershipControls",
        "policy",
        "policyStatus",
        "publicAccessBlock",
        "renameObject",
        "replication",
        "requestPayment",
        "restore",
        "retention",
        "select",
        "session",
        "tagging",
        "torrent",
        "versioning",
        "versions",
        "website",
    }
)
_SUPPORTED_SUBRESOURCES = frozenset(
    {"delete", "encryption", "list-type", "location", "partNumber", "uploadId", "uploads"}
)


async def _put_or_copy(ctx: S3Request) -> Response:
    if "x-amz-copy-source" in ctx.headers:
        return await objects.copy_object(ctx)
    return await objects.put_object(ctx)


# (level, method, sub-resources present) -> handler. Levels: "service" (/), "bucket", "object".
_ROUTES: dict[tuple[str, str, frozenset[str]], Handler] = {
    ("service", "GET", frozenset()): buckets.list_buckets,
    ("bucket", "GET", frozenset({"location"})): buckets.get_bucket_location,
    ("bucket", "GET", frozenset({"uploads"})): multipart.list_multipart_uploads,
    ("bucket", "GET", frozenset({"list-type"})): listing.list_objects_v2,
    ("bucket", "GET", frozenset()): listing.list_objects_v1,
    ("bucket", "PUT", frozenset()): buckets.create_bucket,
    ("bucket", "HEAD", frozenset()): buckets.head_bucket,
    ("bucket", "DELETE", frozenset()): buckets.delete_bucket,
    ("bucket", "PUT", frozenset({"encryption"})): encryption.put_bucket_encryption,
    ("bucket", "GET", frozenset({"encryption"})): encryption.get_bucket_encryption,
    ("bucket", "DELETE", frozenset({"encryption"})): encryption.delete_bucket_encryption,
    ("bucket", "POST", frozenset({"delete"})): buckets.delete_objects,
    ("object", "GET", frozenset({"uploadId"})): multipart.list_parts,
    ("object", "GET", frozenset()): objects.get_object,
    ("object", "GET", frozenset({"partNumber"})): objects.get_object,
    ("object", "HEAD", frozenset()): objects.head_object,
    ("object", "HEAD", frozenset({"partNumber"})): objects.head_object,
    ("object", "PUT", frozenset({"partNumber", "uploadId"})): multipart.upload_part,
    ("object", "PUT", frozenset()): _put_or_copy,
    ("object", "DELETE", frozenset({"uploadId"})): multipart.abort_multipart_upload,
    ("object", "DELETE", frozenset()): objects.delete_object,
    ("object", "POST", frozenset({"uploads"})): multipart.create_multipart_upload,
    ("object", "POST", frozenset({"uploadId"})): multipart.complete_multipart_upload,
}


def level_of(bucket: str, key: str) -> str:
    if not bucket:
        return "service"
    return "object" if key else "bucket"


def choose_handler(method: str, bucket: str, key: str, query: Query) -> Handler:
    """The handler for a request, or S3NotImplemented naming what is not implemented."""
    names = query.names()
    unsupported = sorted(names & UNSUPPORTED_SUBRESOURCES)
    if unsupported:
        raise S3NotImplemented(f"The S3 ?{unsupported[0]} sub-resource is not implemented by opensage.")
    version = query.get("versionId")
    if version is not None and version != "null":
        raise S3NotImplemented("Object versions are not implemented by opensage; omit versionId.")
    list_type = query.get("list-type")
    if list_type is not None and list_type != "2":
        raise InvalidArgument("list-type must be 2 (ListObjectsV2); omit it for ListObjects.")
    level = level_of(bucket, key)
    present = frozenset(names & _SUPPORTED_SUBRESOURCES)
    handler = _ROUTES.get((level, method, present))
    if handler is None:
        if all((route_level, route_method) != (level, method) for route_level, route_method, _ in _ROUTES):
            raise MethodNotAllowed(f"The specified method {method} is not allowed against this resource.")
        shown = "".join(f"?{name}" for name in sorted(present))
        raise S3NotImplemented(f"S3 has no {method} operation on a {level}{shown} that opensage implements.")
    return handler
