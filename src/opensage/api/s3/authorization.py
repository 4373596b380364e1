"""Which S3 operation a routed request is, and the policy check made before its handler runs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opensage.api.s3 import buckets, listing, multipart, objects
from opensage.api.s3.context import S3Request
from opensage.errors import OpenSageError
from opensage.security.actions import Access, s3_accesses, s3_object_arn
from opensage.security.authorizer import Authorizer, denied
from opensage.security.principal import principal_of

# Handler -> the S3 API's name for the operation (what policies' actions and the audit trail use).
_OPERATIONS: dict[Callable[..., Any], str] = {
    buckets.list_buckets: "ListBuckets",
    buckets.get_bucket_location: "GetBucketLocation",
    buckets.create_bucket: "CreateBucket",
    buckets.head_bucket: "HeadBucket",
    buckets.delete_bucket: "DeleteBucket",
    buckets.delete_objects: "DeleteObjects",
    listing.list_objects_v2: "ListObjectsV2",
    listing.list_objects_v1: "ListObjects",
    multipart.list_multipart_uploads: "ListMultipartUploads",
    multipart.list_parts: "ListParts",
    multipart.upload_part: "UploadPart",
    multipart.abort_multipart_upload: "AbortMultipartUpload",
    multipart.create_multipart_upload: "CreateMultipartUpload",
    multipart.complete_multipart_upload: "CompleteMultipartUpload",
    objects.get_object: "GetObject",
    objects.head_object: "HeadObject",
    objects.delete_object: "DeleteObject",
}


def operation_of(handler: Callable[..., Any], ctx: S3Request) -> str:
    found = _OPERATIONS.get(handler)
    if found is not None:
        return found
    # The one handler that is two operations: a PUT of an object, or a copy onto it.
    return "CopyObject" if "x-amz-copy-source" in ctx.headers else "PutObject"


def authorize_s3(authorizer: Authorizer, handler: Callable[..., Any], ctx: S3Request) -> None:
    """S3AccessDenied (403) unless the caller may make this request."""
    operation = operation_of(handler, ctx)
    copy_source = ctx.headers.get("x-amz-copy-source") if operation == "CopyObject" else None
    accesses = s3_accesses(operation, ctx.bucket, ctx.key, copy_source)
    authorizer.authorize(ctx.request.scope, operation, accesses, s3=True)


def key_check(authorizer: Authorizer, ctx: S3Request) -> Callable[[str], OpenSageError | None]:
    """For DeleteObjects: each key is checked as its own s3:DeleteObject, as S3 does, and a
    refused key is reported in the result's Errors while the others are deleted."""
    principal = principal_of(ctx.request.scope)

    def check(key: str) -> OpenSageError | None:
        access = Access("s3:DeleteObject", s3_object_arn(ctx.bucket, key))
        denial = authorizer.decide(principal, [access])
        return None if denial is None else denied(denial, s3=True)

    return check


def decrypt_check(authorizer: Authorizer, ctx: S3Request) -> Callable[[str], OpenSageError | None]:
    """For reads of SSE-KMS objects: S3 decrypts for callers who may use the object's key, as on
    AWS, where reading such an object needs kms:Decrypt on its key besides s3:GetObject."""
    principal = principal_of(ctx.request.scope)

    def check(kms_key_arn: str) -> OpenSageError | None:
        denial = authorizer.decide(principal, [Access("kms:Decrypt", kms_key_arn)])
        return None if denial is None else denied(denial, s3=True)

    return check
