"""S3 bucket default encryption: PutBucketEncryption, GetBucketEncryption, DeleteBucketEncryption."""

from __future__ import annotations

from starlette.responses import Response

from opensage.api.s3 import xml
from opensage.api.s3.body import RequestBody
from opensage.api.s3.context import S3Request
from opensage.api.s3.responses import empty_response, xml_response
from opensage.errors import InvalidArgument, MalformedXML, ServerSideEncryptionConfigurationNotFound
from opensage.objects.base import BucketEncryption
from opensage.objects.encryption import SSE_KMS, check_algorithm


async def put_bucket_encryption(ctx: S3Request) -> Response:
    root = xml.parse(await RequestBody(ctx.request).read_small(), "ServerSideEncryptionConfiguration")
    rules = xml.children(root, "Rule")
    defaults = [found for rule in rules for found in xml.children(rule, "ApplyServerSideEncryptionByDefault")]
    if len(rules) != 1 or len(defaults) != 1:
        raise MalformedXML(
            "ServerSideEncryptionConfiguration must hold one Rule with ApplyServerSideEncryptionByDefault."
        )
    algorithm = (xml.child_text(defaults[0], "SSEAlgorithm") or "").strip()
    key_id = (xml.child_text(defaults[0], "KMSMasterKeyID") or "").strip() or None
    check_algorithm(algorithm)
    if key_id is not None and algorithm != SSE_KMS:
        raise InvalidArgument(f"KMSMasterKeyID may only be given with SSEAlgorithm {SSE_KMS}.")
    await ctx.call(ctx.store.put_bucket_encryption, ctx.bucket, BucketEncryption(algorithm, key_id))
    return empty_response(200)


async def get_bucket_encryption(ctx: S3Request) -> Response:
    found = await ctx.call(ctx.store.get_bucket_encryption, ctx.bucket)
    if found is None:
        raise ServerSideEncryptionConfigurationNotFound(
            f"The server side encryption configuration of bucket {ctx.bucket!r} was not found."
        )
    root = xml.document("ServerSideEncryptionConfiguration")
    default = xml.add(xml.add(root, "Rule"), "ApplyServerSideEncryptionByDefault")
    xml.add_all(default, [("SSEAlgorithm", found.algorithm), ("KMSMasterKeyID", found.kms_key_id)])
    return xml_response(root)


async def delete_bucket_encryption(ctx: S3Request) -> Response:
    await ctx.call(ctx.store.put_bucket_encryption, ctx.bucket, None)
    return empty_response(204)
