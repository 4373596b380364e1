"""S3 object operations: PutObject, GetObject, HeadObject, DeleteObject, CopyObject."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import BinaryIO, Protocol, TypeVar
from urllib.parse import unquote

import anyio
from starlette.responses import Response, StreamingResponse

from opensage.api.s3 import xml
from opensage.api.s3.body import CHUNK_SIZE, RequestBody
from opensage.api.s3.conditions import evaluate, parse_range, require_source_conditions
from opensage.api.s3.context import S3Request
from opensage.api.s3.headers import (
    RESPONSE_OVERRIDES,
    SSE_HEADER,
    checksum_headers,
    encryption_headers,
    http_date,
    object_headers,
    quoted_etag,
    requested_algorithms,
    requested_encryption,
    write_options,
)
from opensage.api.s3.responses import empty_response, xml_response
from opensage.errors import (
    InternalError,
    InvalidArgument,
    InvalidRequest,
    PreconditionFailed,
    S3NotImplemented,
)
from opensage.objects.base import ObjectInfo, WriteOptions

Committed = TypeVar("Committed", covariant=True)
# GetObject re-reads the object's description this often if a writer replaces it meanwhile.
_READ_ATTEMPTS = 3


def reject_unsupported_write_headers(ctx: S3Request) -> None:
    headers = ctx.headers
    if "if-none-match" in headers or "if-match" in headers:
        raise S3NotImplemented(
            "Conditional writes (If-Match / If-None-Match on a write) are not implemented."
        )
    if "x-amz-server-side-encryption-customer-algorithm" in headers:
        raise S3NotImplemented(
            "Server-side encryption with customer-provided keys (SSE-C) is not implemented."
        )


async def put_object(ctx: S3Request) -> Response:
    reject_unsupported_write_headers(ctx)
    body = RequestBody(ctx.request)
    options = write_options(ctx.headers, body.trailer_algorithms)
    # Opening the writer checks bucket, key and path before the body is read (Expect: 100-continue).
    writer = await ctx.call(ctx.store.open_writer, ctx.bucket, ctx.key, options)
    info = await write_body(ctx, body, writer)
    headers = {"etag": quoted_etag(info.etag), **checksum_headers(info), **encryption_headers(info)}
    return empty_response(headers=headers)


class BodyWriter(Protocol[Committed]):
    """What ObjectWriter and PartWriter have in common."""

    def write(self, data: bytes) -> None: ...

    def commit(self) -> Committed: ...

    def abort(self) -> None: ...


async def write_body(ctx: S3Request, body: RequestBody, writer: BodyWriter[Committed]) -> Committed:
    """Stream the request body into ``writer`` and commit it; abort on any failure."""
    try:
        async for chunk in body.chunks():
            await ctx.call(writer.write, chunk)
        return await ctx.call(writer.commit)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await ctx.call(writer.abort)
        raise


async def head_object(ctx: S3Request) -> Response:
    if ctx.query.get("partNumber") is not None:
        raise S3NotImplemented("Reading a single part of an object (partNumber) is not implemented.")
    info = await ctx.call(ctx.store.head_object, ctx.bucket, ctx.key)
    status = evaluate(ctx.headers, info)
    if status is not None:
        return _condition_response(status, info)
    byte_range = parse_range(ctx.headers.get("range"), info.size)
    headers = object_headers(info, _checksum_mode(ctx) and byte_range is None)
    headers.update(_range_headers(byte_range, info.size))
    return empty_response(206 if byte_range else 200, headers)


async def get_object(ctx: S3Request) -> Response:
    if ctx.query.get("partNumber") is not None:
        raise S3NotImplemented("Reading a single part of an object (partNumber) is not implemented.")
    for _ in range(_READ_ATTEMPTS):
        info = await ctx.call(ctx.store.head_object, ctx.bucket, ctx.key)
        await ctx.call(_require_decrypt, ctx, info)
        status = evaluate(ctx.headers, info)
        if status is not None:
            return _condition_response(status, info)
        byte_range = parse_range(ctx.headers.get("range"), info.size)
        start, last = byte_range if byte_range else (0, None)
        opened, stream = await ctx.call(ctx.store.open_reader, ctx.bucket, ctx.key, start, last)
        if opened.etag == info.etag and opened.size == info.size:
            break
        stream.close()  # replaced between the two calls: decide again on the new object
    else:
        raise InternalError(f"Object {ctx.key!r} kept changing while it was being read; retry the request.")
    headers = object_headers(opened, _checksum_mode(ctx) and byte_range is None)
    headers.update(_range_headers(byte_range, opened.size))
    headers.update(_response_overrides(ctx))
    return StreamingResponse(_stream(ctx, stream), status_code=206 if byte_range else 200, headers=headers)


def _require_decrypt(ctx: S3Request, info: ObjectInfo) -> None:
    if ctx.decrypt_check is None or info.sse != "aws:kms" or not info.sse_kms_key_id:
        return
    refusal = ctx.decrypt_check(info.sse_kms_key_id)
    if refusal is not None:
        raise refusal


def _checksum_mode(ctx: S3Request) -> bool:
    return ctx.headers.get("x-amz-checksum-mode", "").upper() == "ENABLED"


def _range_headers(byte_range: tuple[int, int] | None, size: int) -> dict[str, str]:
    if byte_range is None:
        return {"content-length": str(size)}
    first, last = byte_range
    return {"content-length": str(last - first + 1), "content-range": f"bytes {first}-{last}/{size}"}


def _response_overrides(ctx: S3Request) -> dict[str, str]:
    return {header: value for name, header in RESPONSE_OVERRIDES.items() if (value := ctx.query.get(name))}


def _condition_response(status: int, info: ObjectInfo) -> Response:
    if status == 412:
        raise PreconditionFailed("At least one of the pre-conditions you specified did not hold.")
    return empty_response(
        status, {"etag": quoted_etag(info.etag), "last-modified": http_date(info.last_modified)}
    )


async def _stream(ctx: S3Request, stream: BinaryIO) -> AsyncIterator[bytes]:
    try:
        while chunk := await ctx.call(stream.read, CHUNK_SIZE):
            yield chunk
    finally:
        stream.close()


async def delete_object(ctx: S3Request) -> Response:
    await ctx.call(ctx.store.delete_object, ctx.bucket, ctx.key)
    return empty_response(204)


def copy_source(ctx: S3Request) -> tuple[str, str]:
    """(bucket, key) of ``x-amz-copy-source``: percent-encoded ``[/]bucket/key[?versionId=...]``."""
    raw = ctx.headers.get("x-amz-copy-source", "")
    path, _, version = raw.partition("?")
    if version and version not in ("versionId=null", ""):
        raise S3NotImplemented("Copying a specific object version is not implemented; omit versionId.")
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError as exc:
        raise InvalidArgument("x-amz-copy-source is not valid percent-encoded UTF-8.") from exc
    bucket, _, key = decoded.lstrip("/").partition("/")
    if not bucket or not key:
        raise InvalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey.")
    return bucket, key


async def copy_object(ctx: S3Request) -> Response:
    reject_unsupported_write_headers(ctx)
    source_bucket, source_key = copy_source(ctx)
    directive = ctx.headers.get("x-amz-metadata-directive", "COPY").upper()
    if directive not in ("COPY", "REPLACE"):
        raise InvalidArgument("Unknown metadata directive; use COPY or REPLACE.")
    if directive == "COPY" and (source_bucket, source_key) == (ctx.bucket, ctx.key):
        raise InvalidRequest(
            "This copy request is illegal because it is trying to copy an object to itself without "
            "changing the object's metadata, storage class, website redirect location or encryption "
            "attributes."
        )
    source = await ctx.call(ctx.store.head_object, source_bucket, source_key)
    await ctx.call(_require_decrypt, ctx, source)
    require_source_conditions(ctx.headers, source)
    options: WriteOptions | None = None
    if directive == "REPLACE":
        options = write_options(ctx.headers, verify_body=False)
    elif requested_algorithms(ctx.headers) or SSE_HEADER in ctx.headers:
        # The copy is encrypted as this request (or else the target bucket's default) says.
        sse, kms_key_id = requested_encryption(ctx.headers)
        options = WriteOptions(
            content_type=source.content_type,
            metadata=source.metadata,
            headers=source.headers,
            checksum_algorithms=requested_algorithms(ctx.headers),
            sse=sse,
            sse_kms_key_id=kms_key_id,
        )
    info = await ctx.call(ctx.store.copy_object, source_bucket, source_key, ctx.bucket, ctx.key, options)
    root = xml.document("CopyObjectResult")
    xml.add(root, "ETag", quoted_etag(info.etag))
    xml.add(root, "LastModified", xml.iso_timestamp(info.last_modified))
    return xml_response(root, headers={**checksum_headers(info), **encryption_headers(info)})
