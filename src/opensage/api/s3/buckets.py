"""S3 bucket operations: ListBuckets, Create/Head/DeleteBucket, GetBucketLocation, DeleteObjects."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

from starlette.responses import Response

from opensage.api.s3 import xml
from opensage.api.s3.body import RequestBody
from opensage.api.s3.context import S3Request
from opensage.api.s3.responses import empty_response, error_code, xml_response
from opensage.errors import InvalidArgument, MalformedXML, OpenSageError, S3NotImplemented
from opensage.objects.base import BucketInfo, ObjectStore

# The one local "account"; S3 clients only display these.
OWNER_ID = "0" * 64
OWNER_NAME = "opensage"
MAX_DELETE_KEYS = 1000
# S3 answers a missing LocationConstraint (us-east-1) with an empty element.
_DEFAULT_REGION = "us-east-1"


def add_owner(parent: xml.Element, tag: str = "Owner") -> None:
    owner = xml.add(parent, tag)
    xml.add(owner, "ID", OWNER_ID)
    xml.add(owner, "DisplayName", OWNER_NAME)


async def list_buckets(ctx: S3Request) -> Response:
    buckets = await ctx.call(ctx.store.list_buckets)
    prefix = ctx.query.get("prefix") or ""
    after = _bucket_token(ctx.query.get("continuation-token"))
    limit = ctx.query.integer("max-buckets", 10_000, 1, 10_000)
    chosen = [
        bucket
        for bucket in buckets
        if bucket.name.startswith(prefix) and (after is None or bucket.name > after)
    ]
    page, truncated = chosen[:limit], len(chosen) > limit
    root = xml.document("ListAllMyBucketsResult")
    add_owner(root)
    listed = xml.add(root, "Buckets")
    for bucket in page:
        _add_bucket(listed, bucket)
    if truncated:
        token = base64.urlsafe_b64encode(page[-1].name.encode()).decode("ascii")
        xml.add(root, "ContinuationToken", token)
    if prefix:
        xml.add(root, "Prefix", prefix)
    return xml_response(root)


def _add_bucket(parent: xml.Element, bucket: BucketInfo) -> None:
    element = xml.add(parent, "Bucket")
    xml.add(element, "Name", bucket.name)
    xml.add(element, "CreationDate", xml.iso_timestamp(bucket.creation_date))
    xml.add(element, "BucketRegion", bucket.region)


def _bucket_token(token: str | None) -> str | None:
    if token is None:
        return None
    try:
        return base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidArgument("The continuation token provided is incorrect.") from exc


async def create_bucket(ctx: S3Request) -> Response:
    body = await RequestBody(ctx.request).read_small()
    region = ctx.region
    if body.strip():
        root = xml.parse(body, "CreateBucketConfiguration")
        region = xml.child_text(root, "LocationConstraint") or ctx.region
    await ctx.call(ctx.store.create_bucket, ctx.bucket, region)
    return empty_response(headers={"location": f"/{ctx.bucket}"})


async def head_bucket(ctx: S3Request) -> Response:
    info = await ctx.call(ctx.store.head_bucket, ctx.bucket)
    return empty_response(headers={"x-amz-bucket-region": info.region, "content-length": "0"})


async def delete_bucket(ctx: S3Request) -> Response:
    await ctx.call(ctx.store.delete_bucket, ctx.bucket)
    return empty_response(204)


async def get_bucket_location(ctx: S3Request) -> Response:
    info = await ctx.call(ctx.store.head_bucket, ctx.bucket)
    root = xml.document("LocationConstraint")
    if info.region != _DEFAULT_REGION:
        root.text = info.region
    return xml_response(root)


async def delete_objects(ctx: S3Request) -> Response:
    await ctx.call(ctx.store.head_bucket, ctx.bucket)
    root = xml.parse(await RequestBody(ctx.request).read_small(), "Delete")
    quiet = (xml.child_text(root, "Quiet") or "").strip().lower() == "true"
    targets = [_delete_target(element) for element in xml.children(root, "Object")]
    if not targets or len(targets) > MAX_DELETE_KEYS:
        raise MalformedXML(f"A Delete request must name between 1 and {MAX_DELETE_KEYS} objects.")
    outcomes = await ctx.call(_delete_each, ctx.store, ctx.bucket, targets, ctx.key_check)
    result = xml.document("DeleteResult")
    for (key, _), error in zip(targets, outcomes, strict=True):
        if error is None and not quiet:
            xml.add(xml.add(result, "Deleted"), "Key", key)
        elif error is not None:
            failed = xml.add(result, "Error")
            xml.add_all(failed, [("Key", key), ("Code", error_code(error)), ("Message", error.message)])
    return xml_response(result)


def _delete_target(element: xml.Element) -> tuple[str, str | None]:
    key = xml.child_text(element, "Key")
    if not key:
        raise MalformedXML("Every Object in a Delete request needs a non-empty Key.")
    return key, xml.child_text(element, "VersionId")


def _delete_each(
    store: ObjectStore,
    bucket: str,
    targets: list[tuple[str, str | None]],
    key_check: Callable[[str], OpenSageError | None] | None,
) -> list[OpenSageError | None]:
    outcomes: list[OpenSageError | None] = []
    for key, version in targets:
        refusal = key_check(key) if key_check is not None else None
        if refusal is not None:
            outcomes.append(refusal)
            continue
        try:
            if version not in (None, "null"):
                raise S3NotImplemented("Object versions are not implemented; omit VersionId.")
            store.delete_object(bucket, key)
        except OpenSageError as error:
            outcomes.append(error)
        else:
            outcomes.append(None)
    return outcomes
