"""ListObjectsV2 and ListObjects (v1): query parameters in, ``<ListBucketResult>`` out.

With ``encoding-type=url`` S3 percent-encodes keys, prefixes, delimiter and markers the way
HTML forms do (space as ``+``, ``/`` kept) and echoes ``<EncodingType>url</EncodingType>``;
botocore decodes them with ``unquote_plus`` only when that element is present.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from urllib.parse import quote_plus

from starlette.responses import Response

from opensage.api.s3 import xml
from opensage.api.s3.buckets import add_owner
from opensage.api.s3.context import S3Request
from opensage.api.s3.headers import quoted_etag
from opensage.api.s3.responses import xml_response
from opensage.errors import InvalidArgument
from opensage.objects.base import ListPage, ObjectInfo

MAX_KEYS = 1000
_TOKEN_VERSION = "v1:"

Encoder = Callable[[str], str]


def encoder_for(ctx: S3Request) -> Encoder | None:
    encoding = ctx.query.get("encoding-type")
    if encoding is None:
        return None
    if encoding != "url":
        raise InvalidArgument("Invalid Encoding Method specified in Request; the only one is 'url'.")
    return url_encode


def url_encode(value: str) -> str:
    return quote_plus(value, safe="/")


def encode_token(last_returned: str) -> str:
    return base64.urlsafe_b64encode((_TOKEN_VERSION + last_returned).encode("utf-8")).decode("ascii")


def decode_token(token: str) -> str:
    try:
        text = base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidArgument("The continuation token provided is incorrect.") from exc
    if not text.startswith(_TOKEN_VERSION):
        raise InvalidArgument("The continuation token provided is incorrect.")
    return text[len(_TOKEN_VERSION) :]


async def list_objects_v2(ctx: S3Request) -> Response:
    query = ctx.query
    encode = encoder_for(ctx)
    token = query.get("continuation-token")
    start_after = query.get("start-after")
    after = decode_token(token) if token is not None else start_after
    prefix = query.get("prefix") or ""
    delimiter = query.get("delimiter") or None
    max_keys = query.integer("max-keys", MAX_KEYS, 0, MAX_KEYS)
    page = await ctx.call(ctx.store.list_objects, ctx.bucket, prefix, delimiter, after or None, max_keys)
    root = _result_root(ctx, prefix, delimiter, max_keys, encode)
    xml.add(root, "KeyCount", len(page.objects) + len(page.common_prefixes))
    xml.add(root, "IsTruncated", page.is_truncated)
    xml.add_all(root, [("ContinuationToken", token)])
    if page.is_truncated and page.last_returned is not None:
        xml.add(root, "NextContinuationToken", encode_token(page.last_returned))
    if start_after is not None:
        xml.add(root, "StartAfter", _encoded(start_after, encode))
    _add_entries(root, page, encode, fetch_owner=query.get("fetch-owner") == "true")
    return xml_response(root)


async def list_objects_v1(ctx: S3Request) -> Response:
    query = ctx.query
    encode = encoder_for(ctx)
    marker = query.get("marker") or ""
    prefix = query.get("prefix") or ""
    delimiter = query.get("delimiter") or None
    max_keys = query.integer("max-keys", MAX_KEYS, 0, MAX_KEYS)
    page = await ctx.call(ctx.store.list_objects, ctx.bucket, prefix, delimiter, marker or None, max_keys)
    root = _result_root(ctx, prefix, delimiter, max_keys, encode)
    xml.add(root, "Marker", _encoded(marker, encode))
    xml.add(root, "IsTruncated", page.is_truncated)
    if page.is_truncated and page.last_returned is not None:
        xml.add(root, "NextMarker", _encoded(page.last_returned, encode))
    _add_entries(root, page, encode, fetch_owner=True)
    return xml_response(root)


def _result_root(
    ctx: S3Request, prefix: str, delimiter: str | None, max_keys: int, encode: Encoder | None
) -> xml.Element:
    root = xml.document("ListBucketResult")
    xml.add(root, "Name", ctx.bucket)
    xml.add(root, "Prefix", _encoded(prefix, encode))
    if delimiter is not None:
        xml.add(root, "Delimiter", _encoded(delimiter, encode))
    xml.add(root, "MaxKeys", max_keys)
    if encode is not None:
        xml.add(root, "EncodingType", "url")
    return root


def _add_entries(root: xml.Element, page: ListPage, encode: Encoder | None, fetch_owner: bool) -> None:
    for info in page.objects:
        _add_object(root, info, encode, fetch_owner)
    for common in page.common_prefixes:
        xml.add(xml.add(root, "CommonPrefixes"), "Prefix", _encoded(common, encode))


def _add_object(root: xml.Element, info: ObjectInfo, encode: Encoder | None, fetch_owner: bool) -> None:
    entry = xml.add(root, "Contents")
    xml.add(entry, "Key", _encoded(info.key, encode))
    xml.add(entry, "LastModified", xml.iso_timestamp(info.last_modified))
    xml.add(entry, "ETag", quoted_etag(info.etag))
    for algorithm in info.checksums:
        xml.add(entry, "ChecksumAlgorithm", algorithm)
    if info.checksums:
        xml.add(entry, "ChecksumType", "FULL_OBJECT")
    xml.add(entry, "Size", info.size)
    if fetch_owner:
        add_owner(entry)
    xml.add(entry, "StorageClass", "STANDARD")


def _encoded(value: str, encode: Encoder | None) -> str:
    return value if encode is None else encode(value)
