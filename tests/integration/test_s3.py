"""The S3 API through the real boto3 client against a real server on a loopback port."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import uuid
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

MIB = 1024 * 1024


@pytest.fixture()
def bucket(s3_client: Any) -> Iterator[str]:
    name = f"s3-test-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    yield name
    for upload in s3_client.list_multipart_uploads(Bucket=name).get("Uploads", []):
        s3_client.abort_multipart_upload(Bucket=name, Key=upload["Key"], UploadId=upload["UploadId"])
    for page in s3_client.get_paginator("list_objects_v2").paginate(Bucket=name):
        for item in page.get("Contents", []):
            s3_client.delete_object(Bucket=name, Key=item["Key"])
    s3_client.delete_bucket(Bucket=name)


def error_of(excinfo: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response = excinfo.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


# --- buckets and errors ---


def test_bucket_operations_and_their_errors(s3_client: Any) -> None:
    name = f"s3-bucket-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert name in [b["Name"] for b in s3_client.list_buckets()["Buckets"]]
    assert s3_client.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert s3_client.head_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as excinfo:
        s3_client.create_bucket(Bucket=name)
    assert error_of(excinfo) == ("BucketAlreadyOwnedByYou", 409)
    s3_client.put_object(Bucket=name, Key="k", Body=b"x")
    with pytest.raises(ClientError) as excinfo:
        s3_client.delete_bucket(Bucket=name)
    assert error_of(excinfo) == ("BucketNotEmpty", 409)
    s3_client.delete_object(Bucket=name, Key="k")
    assert s3_client.delete_bucket(Bucket=name)["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as excinfo:
        s3_client.head_bucket(Bucket=name)
    assert error_of(excinfo) == ("404", 404)
    with pytest.raises(s3_client.exceptions.NoSuchBucket):
        s3_client.list_objects_v2(Bucket=name)
    with pytest.raises(ClientError) as excinfo:
        s3_client.create_bucket(Bucket="Not_Valid")
    assert error_of(excinfo) == ("InvalidBucketName", 400)


def test_missing_keys(s3_client: Any, bucket: str) -> None:
    with pytest.raises(s3_client.exceptions.NoSuchKey) as excinfo:
        s3_client.get_object(Bucket=bucket, Key="missing")
    assert excinfo.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]
    with pytest.raises(ClientError) as head_error:
        s3_client.head_object(Bucket=bucket, Key="missing")
    assert error_of(head_error) == ("404", 404)
    assert head_error.value.response["Error"]["Message"] == "Not Found"
    with pytest.raises(s3_client.exceptions.NoSuchBucket):
        s3_client.get_object(Bucket="no-such-bucket-here", Key="k")
    assert s3_client.delete_object(Bucket=bucket, Key="missing")["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_unsupported_subresources_are_refused(s3_client: Any, bucket: str) -> None:
    with pytest.raises(ClientError) as excinfo:
        s3_client.get_bucket_acl(Bucket=bucket)
    assert error_of(excinfo) == ("NotImplemented", 501)
    assert "acl" in excinfo.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as excinfo:
        s3_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert error_of(excinfo) == ("NotImplemented", 501)


# --- objects ---


def test_put_get_head_keep_metadata_and_headers(s3_client: Any, bucket: str) -> None:
    put = s3_client.put_object(
        Bucket=bucket,
        Key="docs/report 1+1.txt",
        Body=b"hello world",
        ContentType="text/plain",
        Metadata={"owner": "alice"},
        CacheControl="no-cache",
        ContentDisposition="attachment",
        ContentLanguage="en",
    )
    assert put["ETag"] == '"5eb63bbbe01eeed093cb22bb8f5acdc3"'
    got = s3_client.get_object(Bucket=bucket, Key="docs/report 1+1.txt", ChecksumMode="ENABLED")
    assert got["Body"].read() == b"hello world"
    assert (got["ContentType"], got["Metadata"], got["CacheControl"]) == (
        "text/plain",
        {"owner": "alice"},
        "no-cache",
    )
    assert (got["ContentDisposition"], got["ContentLanguage"]) == ("attachment", "en")
    assert got["ChecksumCRC32"] == "DUoRhQ=="  # botocore also validated the body against it
    head = s3_client.head_object(Bucket=bucket, Key="docs/report 1+1.txt")
    assert (head["ContentLength"], head["ETag"]) == (11, put["ETag"])
    assert isinstance(head["LastModified"], dt.datetime)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-id-2"]


def test_default_content_type_and_empty_objects(s3_client: Any, bucket: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="folder/", Body=b"")
    got = s3_client.get_object(Bucket=bucket, Key="folder/")
    assert (got["Body"].read(), got["ContentLength"]) == (b"", 0)
    assert got["ContentType"] == "binary/octet-stream"


def test_ranges(s3_client: Any, bucket: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="digits", Body=b"0123456789")
    cases = {
        "bytes=2-4": b"234",
        "bytes=7-": b"789",
        "bytes=-3": b"789",
        "bytes=5-100": b"56789",
        "bytes=-50": b"0123456789",
    }
    for header, expected in cases.items():
        got = s3_client.get_object(Bucket=bucket, Key="digits", Range=header)
        assert got["Body"].read() == expected
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert (
        s3_client.get_object(Bucket=bucket, Key="digits", Range="bytes=2-4")["ContentRange"] == "bytes 2-4/10"
    )
    with pytest.raises(ClientError) as excinfo:
        s3_client.get_object(Bucket=bucket, Key="digits", Range="bytes=10-")
    assert error_of(excinfo) == ("InvalidRange", 416)


def test_conditional_reads(s3_client: Any, bucket: str) -> None:
    etag = s3_client.put_object(Bucket=bucket, Key="k", Body=b"v")["ETag"]
    with pytest.raises(ClientError) as excinfo:
        s3_client.get_object(Bucket=bucket, Key="k", IfNoneMatch=etag)
    assert error_of(excinfo)[1] == 304
    with pytest.raises(ClientError) as excinfo:
        s3_client.get_object(Bucket=bucket, Key="k", IfMatch='"0000"')
    assert error_of(excinfo) == ("PreconditionFailed", 412)
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    with pytest.raises(ClientError) as excinfo:
        s3_client.get_object(Bucket=bucket, Key="k", IfModifiedSince=future)
    assert error_of(excinfo)[1] == 304
    assert s3_client.get_object(Bucket=bucket, Key="k", IfMatch=etag)["Body"].read() == b"v"


def test_checksum_and_md5_mismatches_are_rejected(s3_client: Any, bucket: str) -> None:
    wrong_crc = b64(zlib.crc32(b"something else").to_bytes(4, "big"))
    with pytest.raises(ClientError) as excinfo:
        s3_client.put_object(Bucket=bucket, Key="bad-crc", Body=b"payload", ChecksumCRC32=wrong_crc)
    assert error_of(excinfo) == ("BadDigest", 400)
    with pytest.raises(ClientError) as excinfo:
        s3_client.put_object(
            Bucket=bucket, Key="bad-md5", Body=b"payload", ContentMD5=b64(hashlib.md5(b"x").digest())
        )
    assert error_of(excinfo) == ("BadDigest", 400)
    assert s3_client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    good = s3_client.put_object(
        Bucket=bucket, Key="good", Body=b"payload", ContentMD5=b64(hashlib.md5(b"payload").digest())
    )
    assert good["ETag"] == f'"{hashlib.md5(b"payload").hexdigest()}"'


def test_copy_object(s3_client: Any, bucket: str) -> None:
    source_key = "src dir/ünï+code%.bin"
    s3_client.put_object(
        Bucket=bucket, Key=source_key, Body=b"copy me", ContentType="a/b", Metadata={"m": "1"}
    )
    result = s3_client.copy_object(
        Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": source_key}
    )
    assert result["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copy me").hexdigest()}"'
    copied = s3_client.get_object(Bucket=bucket, Key="copy")
    assert (copied["Body"].read(), copied["ContentType"], copied["Metadata"]) == (
        b"copy me",
        "a/b",
        {"m": "1"},
    )
    s3_client.copy_object(
        Bucket=bucket,
        Key="replaced",
        CopySource=f"{bucket}/{source_key}",
        MetadataDirective="REPLACE",
        ContentType="text/plain",
        Metadata={"n": "2"},
    )
    replaced = s3_client.head_object(Bucket=bucket, Key="replaced")
    assert (replaced["ContentType"], replaced["Metadata"]) == ("text/plain", {"n": "2"})
    with pytest.raises(ClientError) as excinfo:
        s3_client.copy_object(Bucket=bucket, Key="x", CopySource={"Bucket": bucket, "Key": "missing"})
    assert error_of(excinfo) == ("NoSuchKey", 404)


def test_delete_objects(s3_client: Any, bucket: str) -> None:
    for key in ("a", "b c", "d+e"):
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3_client.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "a"}, {"Key": "b c"}, {"Key": "never-existed"}]}
    )
    assert sorted(d["Key"] for d in result["Deleted"]) == ["a", "b c", "never-existed"]
    quiet = s3_client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "d+e"}], "Quiet": True})
    assert "Deleted" not in quiet and "Errors" not in quiet
    assert s3_client.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


# --- listing ---


def test_list_objects_v2_pagination_delimiter_and_start_after(s3_client: Any, bucket: str) -> None:
    keys = [f"logs/2024/{i:02d}.txt" for i in range(7)] + ["logs/readme", "data/x", "top"]
    for key in keys:
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"")
    pages = list(
        s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, PaginationConfig={"PageSize": 3})
    )
    assert [len(p.get("Contents", [])) for p in pages] == [3, 3, 3, 1]
    assert [c["Key"] for p in pages for c in p["Contents"]] == sorted(keys)
    rolled = s3_client.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [c["Prefix"] for c in rolled["CommonPrefixes"]] == ["data/", "logs/"]
    assert [c["Key"] for c in rolled["Contents"]] == ["top"]
    nested = s3_client.list_objects_v2(Bucket=bucket, Prefix="logs/", Delimiter="/")
    assert ([c["Prefix"] for c in nested["CommonPrefixes"]], [c["Key"] for c in nested["Contents"]]) == (
        ["logs/2024/"],
        ["logs/readme"],
    )
    after = s3_client.list_objects_v2(Bucket=bucket, StartAfter="logs/2024/04.txt", MaxKeys=2)
    assert [c["Key"] for c in after["Contents"]] == ["logs/2024/05.txt", "logs/2024/06.txt"]
    assert after["IsTruncated"] and after["StartAfter"] == "logs/2024/04.txt"
    prefixes_paged = s3_client.get_paginator("list_objects_v2").paginate(
        Bucket=bucket, Delimiter="/", PaginationConfig={"PageSize": 1}
    )
    seen = [c["Prefix"] for p in prefixes_paged for c in p.get("CommonPrefixes", [])]
    assert seen == ["data/", "logs/"]


def test_unicode_spaces_and_plus_in_keys_with_url_encoding(s3_client: Any, bucket: str) -> None:
    keys = ["a b/c+d.txt", "ünïcödé/文件.csv", "per%cent/x", "emoji 😀/y", "tab\tkey", "q?x=1&y#z"]
    for key in keys:
        s3_client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    listed = s3_client.list_objects_v2(Bucket=bucket)  # boto3 asks for encoding-type=url and decodes
    assert [c["Key"] for c in listed["Contents"]] == sorted(keys, key=lambda k: k.encode())
    rolled = s3_client.list_objects_v2(Bucket=bucket, Delimiter="/", Prefix="ü")
    assert [c["Prefix"] for c in rolled["CommonPrefixes"]] == ["ünïcödé/"]
    raw = s3_client.list_objects_v2(Bucket=bucket, Prefix="a b", EncodingType="url")  # not decoded by boto3
    assert (raw["Contents"][0]["Key"], raw["Prefix"]) == ("a+b/c%2Bd.txt", "a+b")
    for key in keys:
        assert s3_client.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()


def test_list_objects_v1_with_markers(s3_client: Any, bucket: str) -> None:
    for key in ("k1", "k2", "k3"):
        s3_client.put_object(Bucket=bucket, Key=key, Body=b"")
    first = s3_client.list_objects(Bucket=bucket, MaxKeys=2)
    assert [c["Key"] for c in first["Contents"]] == ["k1", "k2"] and first["IsTruncated"]
    rest = s3_client.list_objects(Bucket=bucket, Marker=first["NextMarker"])
    assert [c["Key"] for c in rest["Contents"]] == ["k3"] and not rest["IsTruncated"]


# --- multipart ---


def test_multipart_upload_with_parts_sent_out_of_order(s3_client: Any, bucket: str) -> None:
    bodies = {1: os.urandom(5 * MIB), 2: os.urandom(5 * MIB), 3: b"the end"}
    upload = s3_client.create_multipart_upload(Bucket=bucket, Key="mp/object", ContentType="text/x")[
        "UploadId"
    ]
    assert [u["UploadId"] for u in s3_client.list_multipart_uploads(Bucket=bucket)["Uploads"]] == [upload]

    def send(number: int) -> dict[str, Any]:
        part = s3_client.upload_part(
            Bucket=bucket, Key="mp/object", UploadId=upload, PartNumber=number, Body=bodies[number]
        )
        return {"PartNumber": number, "ETag": part["ETag"]}

    with ThreadPoolExecutor(3) as pool:
        parts = list(pool.map(send, [3, 1, 2]))
    listed = s3_client.list_parts(Bucket=bucket, Key="mp/object", UploadId=upload)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in listed] == [(1, 5 * MIB), (2, 5 * MIB), (3, 7)]
    with pytest.raises(ClientError) as excinfo:
        s3_client.complete_multipart_upload(
            Bucket=bucket, Key="mp/object", UploadId=upload, MultipartUpload={"Parts": parts}
        )
    assert error_of(excinfo) == ("InvalidPartOrder", 400)
    ordered = sorted(parts, key=lambda p: p["PartNumber"])
    done = s3_client.complete_multipart_upload(
        Bucket=bucket, Key="mp/object", UploadId=upload, MultipartUpload={"Parts": ordered}
    )
    md5s = b"".join(hashlib.md5(bodies[n]).digest() for n in (1, 2, 3))
    assert done["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    got = s3_client.get_object(Bucket=bucket, Key="mp/object")
    assert got["Body"].read() == bodies[1] + bodies[2] + bodies[3]
    assert got["ContentType"] == "text/x"
    assert "Uploads" not in s3_client.list_multipart_uploads(Bucket=bucket)


def test_multipart_errors_and_abort(s3_client: Any, bucket: str) -> None:
    upload = s3_client.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    small = s3_client.upload_part(Bucket=bucket, Key="k", UploadId=upload, PartNumber=1, Body=b"tiny")["ETag"]
    last = s3_client.upload_part(Bucket=bucket, Key="k", UploadId=upload, PartNumber=2, Body=b"last")["ETag"]
    parts = [{"PartNumber": 1, "ETag": small}, {"PartNumber": 2, "ETag": last}]
    with pytest.raises(ClientError) as excinfo:
        s3_client.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload, MultipartUpload={"Parts": parts}
        )
    assert error_of(excinfo) == ("EntityTooSmall", 400)
    wrong = [{"PartNumber": 1, "ETag": last}]
    with pytest.raises(ClientError) as excinfo:
        s3_client.complete_multipart_upload(
            Bucket=bucket, Key="k", UploadId=upload, MultipartUpload={"Parts": wrong}
        )
    assert error_of(excinfo) == ("InvalidPart", 400)
    assert (
        s3_client.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload)["ResponseMetadata"][
            "HTTPStatusCode"
        ]
        == 204
    )
    with pytest.raises(s3_client.exceptions.NoSuchUpload):
        s3_client.list_parts(Bucket=bucket, Key="k", UploadId=upload)


def test_upload_part_copy(s3_client: Any, bucket: str) -> None:
    source = os.urandom(6 * MIB)
    s3_client.put_object(Bucket=bucket, Key="source", Body=source)
    upload = s3_client.create_multipart_upload(Bucket=bucket, Key="assembled")["UploadId"]
    first = s3_client.upload_part_copy(
        Bucket=bucket,
        Key="assembled",
        UploadId=upload,
        PartNumber=1,
        CopySource={"Bucket": bucket, "Key": "source"},
        CopySourceRange=f"bytes=0-{5 * MIB - 1}",
    )["CopyPartResult"]["ETag"]
    second = s3_client.upload_part_copy(
        Bucket=bucket, Key="assembled", UploadId=upload, PartNumber=2, CopySource=f"{bucket}/source"
    )["CopyPartResult"]["ETag"]
    s3_client.complete_multipart_upload(
        Bucket=bucket,
        Key="assembled",
        UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": first}, {"PartNumber": 2, "ETag": second}]},
    )
    assert s3_client.get_object(Bucket=bucket, Key="assembled")["Body"].read() == source[: 5 * MIB] + source


def test_fifty_megabyte_upload_and_download_are_byte_identical(
    s3_client: Any, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(50 * MIB))
    s3_client.upload_file(str(source), bucket, "big/blob.bin")  # multipart, parts in parallel
    head = s3_client.head_object(Bucket=bucket, Key="big/blob.bin")
    assert head["ContentLength"] == 50 * MIB and head["ETag"].endswith('-7"')
    target = tmp_path / "downloaded.bin"
    s3_client.download_file(bucket, "big/blob.bin", str(target))  # ranged GETs, the last one open-ended
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(source.read_bytes()).digest()
