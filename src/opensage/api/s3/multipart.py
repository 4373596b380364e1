"""S3 multipart uploads: create, upload (or copy) parts, complete, abort, list parts and uploads."""

from __future__ import annotations

from starlette.responses import Response

from opensage.api.s3 import xml
from opensage.api.s3.body import RequestBody
from opensage.api.s3.buckets import add_owner
from opensage.api.s3.conditions import parse_range, require_source_conditions
from opensage.api.s3.context import S3Request
from opensage.api.s3.headers import (
    SSE_HEADER,
    checksum_header,
    encryption_headers,
    quoted_etag,
    write_options,
)
from opensage.api.s3.listing import encoder_for
from opensage.api.s3.objects import copy_source, reject_unsupported_write_headers, write_body
from opensage.api.s3.responses import empty_response, xml_response
from opensage.errors import InvalidArgument, InvalidRange, MalformedXML
from opensage.objects.base import ObjectStore, PartInfo, UploadInfo

MAX_PARTS = 1000
MAX_UPLOADS = 1000
_COPY_CHUNK = 1 << 20


def _upload_id(ctx: S3Request) -> str:
    return ctx.query.get("uploadId") or ""


def _part_number(ctx: S3Request) -> int:
    value = ctx.query.get("partNumber") or ""
    if not value.isdigit():
        raise InvalidArgument("Part number must be an integer between 1 and 10000, inclusive.")
    return int(value)


async def create_multipart_upload(ctx: S3Request) -> Response:
    reject_unsupported_write_headers(ctx)
    options = write_options(ctx.headers, verify_body=False)
    upload_id = await ctx.call(ctx.store.create_multipart_upload, ctx.bucket, ctx.key, options)
    root = xml.document("InitiateMultipartUploadResult")
    xml.add_all(root, [("Bucket", ctx.bucket), ("Key", ctx.key), ("UploadId", upload_id)])
    headers = {}
    if options.checksum_algorithms:
        headers["x-amz-checksum-algorithm"] = options.checksum_algorithms[0]
        headers["x-amz-checksum-type"] = "FULL_OBJECT"
    if options.sse is not None:
        headers[SSE_HEADER] = options.sse
    return xml_response(root, headers=headers)


async def upload_part(ctx: S3Request) -> Response:
    if "x-amz-copy-source" in ctx.headers:
        return await upload_part_copy(ctx)
    body = RequestBody(ctx.request)
    options = write_options(ctx.headers, body.trailer_algorithms)
    writer = await ctx.call(
        ctx.store.open_part_writer, ctx.bucket, ctx.key, _upload_id(ctx), _part_number(ctx), options
    )
    part = await write_body(ctx, body, writer)
    return empty_response(headers={"etag": quoted_etag(part.etag), **_part_checksum_headers(part)})


def _part_checksum_headers(part: PartInfo) -> dict[str, str]:
    return {checksum_header(name): value for name, value in part.checksums.items()}


async def upload_part_copy(ctx: S3Request) -> Response:
    source_bucket, source_key = copy_source(ctx)
    source = await ctx.call(ctx.store.head_object, source_bucket, source_key)
    require_source_conditions(ctx.headers, source)
    byte_range = None
    if "x-amz-copy-source-range" in ctx.headers:
        byte_range = parse_range(ctx.headers["x-amz-copy-source-range"], source.size)
        if byte_range is None:
            raise InvalidRange("The x-amz-copy-source-range value must be of the form bytes=first-last.")
    first, last = byte_range if byte_range else (0, None)
    part = await ctx.call(
        _copy_part,
        ctx.store,
        (source_bucket, source_key, first, last),
        (ctx.bucket, ctx.key, _upload_id(ctx), _part_number(ctx)),
    )
    root = xml.document("CopyPartResult")
    xml.add(root, "ETag", quoted_etag(part.etag))
    xml.add(root, "LastModified", xml.iso_timestamp(part.last_modified))
    return xml_response(root)


def _copy_part(
    store: ObjectStore, source: tuple[str, str, int, int | None], target: tuple[str, str, str, int]
) -> PartInfo:
    _, stream = store.open_reader(*source)
    with stream:
        writer = store.open_part_writer(*target)
        try:
            while chunk := stream.read(_COPY_CHUNK):
                writer.write(chunk)
            return writer.commit()
        except BaseException:
            writer.abort()
            raise


async def complete_multipart_upload(ctx: S3Request) -> Response:
    reject_unsupported_write_headers(ctx)
    root = xml.parse(await RequestBody(ctx.request).read_small(), "CompleteMultipartUpload")
    parts = [_part_entry(element) for element in xml.children(root, "Part")]
    info = await ctx.call(ctx.store.complete_multipart_upload, ctx.bucket, ctx.key, _upload_id(ctx), parts)
    result = xml.document("CompleteMultipartUploadResult")
    location = f"{ctx.request.base_url}{ctx.bucket}/{ctx.key}"
    xml.add_all(result, [("Location", location), ("Bucket", ctx.bucket), ("Key", ctx.key)])
    xml.add(result, "ETag", quoted_etag(info.etag))
    for algorithm, value in info.checksums.items():
        xml.add(result, f"Checksum{algorithm}", value)
    if info.checksums:
        xml.add(result, "ChecksumType", "FULL_OBJECT")
    return xml_response(result, headers=encryption_headers(info))


def _part_entry(element: xml.Element) -> tuple[int, str]:
    number = (xml.child_text(element, "PartNumber") or "").strip()
    etag = xml.child_text(element, "ETag")
    if not number.isdigit() or etag is None:
        raise MalformedXML("Every Part in CompleteMultipartUpload needs a PartNumber and an ETag.")
    return int(number), etag


async def abort_multipart_upload(ctx: S3Request) -> Response:
    await ctx.call(ctx.store.abort_multipart_upload, ctx.bucket, ctx.key, _upload_id(ctx))
    return empty_response(204)


async def list_parts(ctx: S3Request) -> Response:
    parts = await ctx.call(ctx.store.list_parts, ctx.bucket, ctx.key, _upload_id(ctx))
    marker = ctx.query.integer("part-number-marker", 0, 0)
    limit = ctx.query.integer("max-parts", MAX_PARTS, 0, MAX_PARTS)
    remaining = [part for part in parts if part.part_number > marker]
    page, truncated = remaining[:limit], len(remaining) > limit
    root = xml.document("ListPartsResult")
    xml.add_all(root, [("Bucket", ctx.bucket), ("Key", ctx.key), ("UploadId", _upload_id(ctx))])
    xml.add(root, "PartNumberMarker", marker)
    if page:
        xml.add(root, "NextPartNumberMarker", page[-1].part_number)
    xml.add(root, "MaxParts", limit)
    xml.add(root, "IsTruncated", truncated)
    for part in page:
        entry = xml.add(root, "Part")
        xml.add(entry, "PartNumber", part.part_number)
        xml.add(entry, "LastModified", xml.iso_timestamp(part.last_modified))
        xml.add(entry, "ETag", quoted_etag(part.etag))
        for algorithm, value in part.checksums.items():
            xml.add(entry, f"Checksum{algorithm}", value)
        xml.add(entry, "Size", part.size)
    add_owner(root, "Initiator")
    add_owner(root)
    xml.add(root, "StorageClass", "STANDARD")
    return xml_response(root)


async def list_multipart_uploads(ctx: S3Request) -> Response:
    encode = encoder_for(ctx)
    prefix = ctx.query.get("prefix") or ""
    delimiter = ctx.query.get("delimiter") or None
    key_marker = ctx.query.get("key-marker") or ""
    id_marker = ctx.query.get("upload-id-marker") or ""
    limit = ctx.query.integer("max-uploads", MAX_UPLOADS, 0, MAX_UPLOADS)
    uploads = await ctx.call(ctx.store.list_multipart_uploads, ctx.bucket)
    entries = _upload_entries(uploads, prefix, delimiter, key_marker, id_marker)
    page, truncated = entries[:limit], len(entries) > limit
    root = xml.document("ListMultipartUploadsResult")
    xml.add(root, "Bucket", ctx.bucket)
    show = encode or (lambda value: value)
    xml.add_all(root, [("KeyMarker", show(key_marker)), ("UploadIdMarker", id_marker)])
    if truncated and page:
        last = page[-1]
        next_key = last if isinstance(last, str) else last.key
        xml.add(root, "NextKeyMarker", show(next_key))
        xml.add(root, "NextUploadIdMarker", "" if isinstance(last, str) else last.upload_id)
    xml.add_all(root, [("Delimiter", delimiter and show(delimiter)), ("Prefix", show(prefix))])
    xml.add(root, "MaxUploads", limit)
    xml.add(root, "IsTruncated", truncated)
    if encode is not None:
        xml.add(root, "EncodingType", "url")
    for entry in page:
        if isinstance(entry, str):
            xml.add(xml.add(root, "CommonPrefixes"), "Prefix", show(entry))
        else:
            _add_upload(root, entry, show(entry.key))
    return xml_response(root)


def _upload_entries(
    uploads: list[UploadInfo], prefix: str, delimiter: str | None, key_marker: str, id_marker: str
) -> list[UploadInfo | str]:
    """Uploads after the markers, under ``prefix``, with keys rolled up at ``delimiter``."""
    entries: list[UploadInfo | str] = []
    for upload in uploads:
        if not upload.key.startswith(prefix) or (upload.key, upload.upload_id) <= (key_marker, id_marker):
            continue
        if id_marker == "" and key_marker and upload.key == key_marker:
            continue
        cut = upload.key.find(delimiter, len(prefix)) if delimiter else -1
        if cut >= 0 and delimiter is not None:
            common = upload.key[: cut + len(delimiter)]
            if common not in entries and common > key_marker:
                entries.append(common)
            continue
        entries.append(upload)
    return entries


def _add_upload(root: xml.Element, upload: UploadInfo, key: str) -> None:
    entry = xml.add(root, "Upload")
    xml.add_all(entry, [("Key", key), ("UploadId", upload.upload_id)])
    add_owner(entry, "Initiator")
    add_owner(entry)
    xml.add(entry, "StorageClass", "STANDARD")
    xml.add(entry, "Initiated", xml.iso_timestamp(upload.initiated))
