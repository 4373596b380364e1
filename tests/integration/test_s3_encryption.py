"""S3 server-side encryption at rest: SSE-KMS and SSE-S3 on PUT, GET, HEAD, ranges, multipart, copy, bucket defaults."""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.support import make_client

from opensage.embedded import EmbeddedServer

# Spans several 64 KiB frames and ends inside one.
BODY = os.urandom(200 * 1024 + 123)


@pytest.fixture(scope="module")
def kms(server: EmbeddedServer) -> Any:
    return make_client("kms", server.endpoint_url)


@pytest.fixture
def bucket(s3_client: Any) -> str:
    name = f"sse-{uuid.uuid4().hex[:12]}"
    s3_client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def key_arn(kms: Any) -> str:
    return str(kms.create_key(Description="s3 tests")["KeyMetadata"]["Arn"])


def _file_on_disk(server: EmbeddedServer, bucket: str, key: str) -> bytes:
    return (Path(server.settings.home) / "objects" / bucket / key).read_bytes()


def test_sse_kms_put_get_head_and_the_disk_holds_no_plaintext(
    server: EmbeddedServer, s3_client: Any, bucket: str, key_arn: str
) -> None:
    put = s3_client.put_object(
        Bucket=bucket,
        Key="data.bin",
        Body=BODY,
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn,
        ChecksumAlgorithm="SHA256",
    )
    assert put["ServerSideEncryption"] == "aws:kms" and put["SSEKMSKeyId"] == key_arn
    assert put["ETag"] == f'"{hashlib.md5(BODY).hexdigest()}"'

    got = s3_client.get_object(Bucket=bucket, Key="data.bin", ChecksumMode="ENABLED")
    assert got["Body"].read() == BODY
    assert got["ContentLength"] == len(BODY) and got["ETag"] == put["ETag"]
    assert got["ServerSideEncryption"] == "aws:kms" and got["SSEKMSKeyId"] == key_arn
    assert got["ChecksumSHA256"] == put["ChecksumSHA256"]
    head = s3_client.head_object(Bucket=bucket, Key="data.bin")
    assert head["ContentLength"] == len(BODY) and head["SSEKMSKeyId"] == key_arn
    listed = s3_client.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(item["Key"], item["Size"]) for item in listed] == [("data.bin", len(BODY))]

    on_disk = _file_on_disk(server, bucket, "data.bin")
    assert len(on_disk) > len(BODY) and BODY[:4096] not in on_disk and BODY[-4096:] not in on_disk


@pytest.mark.parametrize(
    "byte_range",
    [(0, 0), (65535, 65536), (100, 150_000), (len(BODY) - 10, len(BODY) - 1), (131072, 131072 + 65535)],
)
def test_range_reads_decrypt_the_frames_they_cover(
    s3_client: Any, bucket: str, key_arn: str, byte_range: tuple[int, int]
) -> None:
    s3_client.put_object(
        Bucket=bucket, Key="r", Body=BODY, ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn
    )
    first, last = byte_range
    got = s3_client.get_object(Bucket=bucket, Key="r", Range=f"bytes={first}-{last}")
    assert got["Body"].read() == BODY[first : last + 1]
    assert got["ContentRange"] == f"bytes {first}-{last}/{len(BODY)}"
    suffix = s3_client.get_object(Bucket=bucket, Key="r", Range="bytes=-70000")["Body"].read()
    assert suffix == BODY[-70000:]


def test_empty_object_round_trips(s3_client: Any, bucket: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="empty", Body=b"", ServerSideEncryption="AES256")
    got = s3_client.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b"" and got["ServerSideEncryption"] == "AES256"


def test_default_aws_s3_key_and_sse_s3(server: EmbeddedServer, s3_client: Any, kms: Any, bucket: str) -> None:
    put = s3_client.put_object(Bucket=bucket, Key="k", Body=BODY, ServerSideEncryption="aws:kms")
    default = kms.describe_key(KeyId="alias/aws/s3")["KeyMetadata"]
    assert put["SSEKMSKeyId"] == default["Arn"] and default["KeyManager"] == "AWS"
    assert s3_client.get_object(Bucket=bucket, Key="k")["Body"].read() == BODY

    sse_s3 = s3_client.put_object(Bucket=bucket, Key="s", Body=BODY, ServerSideEncryption="AES256")
    assert sse_s3["ServerSideEncryption"] == "AES256" and "SSEKMSKeyId" not in sse_s3
    assert BODY[:4096] not in _file_on_disk(server, bucket, "s")
    assert s3_client.get_object(Bucket=bucket, Key="s")["Body"].read() == BODY


def test_multipart_upload_is_encrypted_as_created(
    server: EmbeddedServer, s3_client: Any, bucket: str, key_arn: str
) -> None:
    first, second = os.urandom(5 * 1024 * 1024), os.urandom(70_000)
    upload = s3_client.create_multipart_upload(
        Bucket=bucket, Key="big", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn
    )
    assert upload["ServerSideEncryption"] == "aws:kms"
    parts = []
    for number, data in ((1, first), (2, second)):
        etag = s3_client.upload_part(
            Bucket=bucket, Key="big", UploadId=upload["UploadId"], PartNumber=number, Body=data
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})
    done = s3_client.complete_multipart_upload(
        Bucket=bucket, Key="big", UploadId=upload["UploadId"], MultipartUpload={"Parts": parts}
    )
    assert done["ETag"].endswith('-2"') and done["SSEKMSKeyId"] == key_arn
    got = s3_client.get_object(Bucket=bucket, Key="big", Range=f"bytes={len(first) - 5}-{len(first) + 5}")
    assert got["Body"].read() == (first + second)[len(first) - 5 : len(first) + 6]
    assert s3_client.get_object(Bucket=bucket, Key="big")["Body"].read() == first + second
    assert first[:4096] not in _file_on_disk(server, bucket, "big")


def test_copy_takes_the_targets_encryption(s3_client: Any, bucket: str, key_arn: str) -> None:
    s3_client.put_object(Bucket=bucket, Key="plain", Body=BODY)
    copied = s3_client.copy_object(
        Bucket=bucket,
        Key="sealed",
        CopySource={"Bucket": bucket, "Key": "plain"},
        ServerSideEncryption="aws:kms",
        SSEKMSKeyId=key_arn,
    )
    assert copied["SSEKMSKeyId"] == key_arn
    sealed = s3_client.get_object(Bucket=bucket, Key="sealed")
    assert sealed["Body"].read() == BODY and sealed["SSEKMSKeyId"] == key_arn

    back = s3_client.copy_object(
        Bucket=bucket, Key="plain-again", CopySource={"Bucket": bucket, "Key": "sealed"}
    )
    assert "ServerSideEncryption" not in back
    assert s3_client.get_object(Bucket=bucket, Key="plain-again")["Body"].read() == BODY


def test_bucket_default_encryption(server: EmbeddedServer, s3_client: Any, bucket: str, key_arn: str) -> None:
    with pytest.raises(ClientError) as missing:
        s3_client.get_bucket_encryption(Bucket=bucket)
    assert missing.value.response["Error"]["Code"] == "ServerSideEncryptionConfigurationNotFoundError"

    rule = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}
    s3_client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [rule]})
    got = s3_client.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert got["ApplyServerSideEncryptionByDefault"] == rule["ApplyServerSideEncryptionByDefault"]

    put = s3_client.put_object(Bucket=bucket, Key="defaulted", Body=BODY)
    assert put["SSEKMSKeyId"] == key_arn
    assert BODY[:4096] not in _file_on_disk(server, bucket, "defaulted")
    # A request's own header wins over the default.
    assert (
        s3_client.put_object(Bucket=bucket, Key="own", Body=b"x", ServerSideEncryption="AES256")[
            "ServerSideEncryption"
        ]
        == "AES256"
    )

    s3_client.delete_bucket_encryption(Bucket=bucket)
    assert "ServerSideEncryption" not in s3_client.put_object(Bucket=bucket, Key="after", Body=b"x")
    assert s3_client.get_object(Bucket=bucket, Key="defaulted")["Body"].read() == BODY


def test_disabled_or_unknown_key_fails_clearly(
    server: EmbeddedServer, s3_client: Any, kms: Any, bucket: str, key_arn: str
) -> None:
    s3_client.put_object(
        Bucket=bucket, Key="locked", Body=b"payload", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn
    )
    kms.disable_key(KeyId=key_arn)
    with pytest.raises(ClientError) as error:
        s3_client.get_object(Bucket=bucket, Key="locked")
    assert error.value.response["Error"]["Code"] == "KMS.DisabledException"
    assert error.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as error:
        _fresh(server).put_object(
            Bucket=bucket, Key="new", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_arn
        )
    assert error.value.response["Error"]["Code"] == "KMS.DisabledException"
    kms.enable_key(KeyId=key_arn)
    assert s3_client.get_object(Bucket=bucket, Key="locked")["Body"].read() == b"payload"

    with pytest.raises(ClientError) as error:
        _fresh(server).put_object(
            Bucket=bucket,
            Key="new",
            Body=b"x",
            ServerSideEncryption="aws:kms",
            SSEKMSKeyId="alias/no-such-key",
        )
    assert error.value.response["Error"]["Code"] == "KMS.NotFoundException"
    with pytest.raises(ClientError) as error:
        _fresh(server).put_object(Bucket=bucket, Key="new", Body=b"x", ServerSideEncryption="aws:nothing")
    assert error.value.response["Error"]["Code"] == "InvalidArgument"
    with pytest.raises(ClientError):
        _fresh(server).head_object(Bucket=bucket, Key="new")


def _fresh(server: EmbeddedServer) -> Any:
    # Each refused PUT gets its own connection: the server answers it before reading the body,
    # and the unread body would otherwise be taken for the next request on that connection.
    return make_client("s3", server.endpoint_url)
