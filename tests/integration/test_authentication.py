"""Authentication as a boto3 user meets it: real server, real signatures, AWS's own errors."""

from __future__ import annotations

import base64
import http.client
import stat
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from typing import Any

import boto3
import botocore
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from click.testing import CliRunner
from tests.support import (
    REGION,
    TEST_ACCESS_KEY_ID,
    ensure_bucket,
    make_settings,
    sign_s3_headers,
    signed_aws_chunked,
)

from opensage.cli.main import _register, cli
from opensage.embedded import EmbeddedServer

BUCKET = "authn-tests"


def client(service: str, url: str, key_id: str, secret: str, **config: Any) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 0}, **config),
    )


def error_of(call: Any, **kwargs: Any) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call(**kwargs)
    response = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    _register()
    return CliRunner()


def test_a_wrong_secret_is_refused_in_each_protocols_words(server: EmbeddedServer) -> None:
    sagemaker = client("sagemaker", server.endpoint_url, TEST_ACCESS_KEY_ID, "w" * 40)
    assert error_of(sagemaker.list_training_jobs) == ("InvalidSignatureException", 403)
    s3 = client("s3", server.endpoint_url, TEST_ACCESS_KEY_ID, "w" * 40)
    assert error_of(s3.list_buckets) == ("SignatureDoesNotMatch", 403)
    logs = client("logs", server.endpoint_url, TEST_ACCESS_KEY_ID, "w" * 40)
    assert error_of(logs.describe_log_groups) == ("InvalidSignatureException", 403)


def test_an_unknown_key_is_unrecognized(server: EmbeddedServer) -> None:
    sagemaker = client("sagemaker", server.endpoint_url, "AKIANOSUCHKEY0000000", "w" * 40)
    assert error_of(sagemaker.list_models) == ("UnrecognizedClientException", 403)
    s3 = client("s3", server.endpoint_url, "AKIANOSUCHKEY0000000", "w" * 40)
    assert error_of(s3.list_buckets) == ("InvalidAccessKeyId", 403)


def test_unsigned_requests_are_refused_and_create_nothing(server: EmbeddedServer, s3_client: Any) -> None:
    anonymous = boto3.client(
        "s3",
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        config=Config(signature_version=botocore.UNSIGNED),
    )
    assert error_of(anonymous.create_bucket, Bucket="authn-never-made") == ("AccessDenied", 403)
    assert "authn-never-made" not in {b["Name"] for b in s3_client.list_buckets()["Buckets"]}
    sagemaker = boto3.client(
        "sagemaker",
        endpoint_url=server.endpoint_url,
        region_name=REGION,
        config=Config(signature_version=botocore.UNSIGNED),
    )
    assert error_of(sagemaker.list_models) == ("MissingAuthenticationTokenException", 403)
    with urllib.request.urlopen(f"{server.endpoint_url}/health") as health:
        assert health.status == 200


def test_presigned_get_and_put_urls_work_with_urllib(server: EmbeddedServer, s3_client: Any) -> None:
    ensure_bucket(s3_client, BUCKET)
    put_url = s3_client.generate_presigned_url(
        "put_object", Params={"Bucket": BUCKET, "Key": "presigned/a b.txt"}, ExpiresIn=60
    )
    put = urllib.request.Request(put_url, data=b"sent by urllib", method="PUT")
    with urllib.request.urlopen(put) as answered:
        assert answered.status == 200
    get_url = s3_client.generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "presigned/a b.txt"}
    )
    with urllib.request.urlopen(get_url) as answered:
        assert answered.read() == b"sent by urllib"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(get_url.replace("a%20b.txt", "other.txt"))
    assert refused.value.code == 403 and b"SignatureDoesNotMatch" in refused.value.read()


def test_a_body_that_does_not_match_its_signed_hash_is_not_stored(
    server: EmbeddedServer, s3_client: Any
) -> None:
    ensure_bucket(s3_client, BUCKET)

    def swap_body(request: Any, **_: Any) -> None:
        # After signing: the bytes on the wire are not the bytes the signature promised.
        request.body = b"Y" * 5000

    tampering = client("s3", server.endpoint_url, TEST_ACCESS_KEY_ID, server_secret(server))
    tampering.meta.events.register_last("before-send.s3.PutObject", swap_body)
    assert error_of(tampering.put_object, Bucket=BUCKET, Key="tampered", Body=b"X" * 5000) == (
        "XAmzContentSHA256Mismatch",
        400,
    )
    assert error_of(s3_client.head_object, Bucket=BUCKET, Key="tampered")[1] == 404


def server_secret(server: EmbeddedServer) -> str:
    secret = server.settings.admin_secret_access_key
    assert secret is not None
    return secret


def test_keys_cli_creates_lists_and_revokes_and_revocation_takes_effect(
    runner: CliRunner, server: EmbeddedServer
) -> None:
    home = str(server.settings.home)
    created = runner.invoke(cli, ["--home", home, "keys", "create", "--user", "admin"])
    assert created.exit_code == 0, created.output
    key_id = created.output.split("AccessKeyId:")[1].split()[0]
    secret = created.output.split("SecretAccessKey:")[1].split()[0]
    assert len(key_id) == 20 and key_id.startswith("AKIA") and len(secret) == 40
    admin = client("sagemaker", server.endpoint_url, key_id, secret)
    assert admin.list_training_jobs()["TrainingJobSummaries"] is not None
    listed = runner.invoke(cli, ["--home", home, "keys", "list"])
    assert key_id in listed.output and "admin" in listed.output and secret not in listed.output
    revoked = runner.invoke(cli, ["--home", home, "keys", "revoke", key_id])
    assert revoked.exit_code == 0, revoked.output
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            admin.list_training_jobs()
        except ClientError as refused:
            assert refused.response["Error"]["Code"] == "UnrecognizedClientException"
            break
        time.sleep(0.1)
    else:
        raise AssertionError("a revoked key still works after 5 s")
    assert "Inactive" in runner.invoke(cli, ["--home", home, "keys", "list"]).output
    missing = runner.invoke(cli, ["--home", home, "keys", "revoke", "AKIANOSUCHKEY0000000"])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_first_start_writes_a_private_credentials_file_that_env_prints(
    runner: CliRunner, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, admin_access_key_id=None, admin_secret_access_key=None)
    with EmbeddedServer(settings) as fresh:
        credentials = tmp_path / "credentials"
        assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
        printed = runner.invoke(cli, ["env", "--home", str(tmp_path)])
        assert printed.exit_code == 0, printed.output
        exports = dict(
            line.removeprefix("export ").split("=", 1) for line in printed.output.splitlines() if line
        )
        assert exports["AWS_ACCESS_KEY_ID"].startswith("AKIA")
        assert exports["AWS_SECRET_ACCESS_KEY"] not in (settings.admin_secret_access_key, None)
        signed = client(
            "s3", fresh.endpoint_url, exports["AWS_ACCESS_KEY_ID"], exports["AWS_SECRET_ACCESS_KEY"]
        )
        assert signed.list_buckets()["Buckets"] == []
        assert exports["AWS_SECRET_ACCESS_KEY"] not in (tmp_path / "opensage.db").read_bytes().decode(
            "latin-1"
        )


def test_no_auth_is_refused_off_loopback(runner: CliRunner, tmp_path: Path) -> None:
    refused = runner.invoke(cli, ["server", "--no-auth", "--host", "0.0.0.0", "--home", str(tmp_path)])
    assert refused.exit_code == 1
    assert "--no-auth" in refused.output and "loopback" in refused.output


def test_no_auth_accepts_unsigned_requests_on_loopback(tmp_path: Path) -> None:
    with EmbeddedServer(make_settings(tmp_path, no_auth=True)) as open_server:
        anonymous = boto3.client(
            "s3",
            endpoint_url=open_server.endpoint_url,
            region_name=REGION,
            config=Config(signature_version=botocore.UNSIGNED, s3={"addressing_style": "path"}),
        )
        anonymous.create_bucket(Bucket="no-auth-bucket")
        assert [b["Name"] for b in anonymous.list_buckets()["Buckets"]] == ["no-auth-bucket"]


def test_a_refused_upload_does_not_poison_the_connection(server: EmbeddedServer, s3_client: Any) -> None:
    """A PUT refused before its body is read ends its connection; the client's next request works."""
    ensure_bucket(s3_client, BUCKET)
    wrong = client("s3", server.endpoint_url, TEST_ACCESS_KEY_ID, "not-the-secret")
    for attempt in range(3):  # the same client and connection pool each time
        assert error_of(wrong.put_object, Bucket=BUCKET, Key=f"refused-{attempt}", Body=b"x" * 70_000) == (
            "SignatureDoesNotMatch",
            403,
        )
    assert "refused-0" not in [o["Key"] for o in s3_client.list_objects_v2(Bucket=BUCKET).get("Contents", [])]


def put_chunked(
    server: EmbeddedServer, key: str, payload: bytes, trailer: list[str] | None, tamper: Any = None
) -> tuple[int, str]:
    """PUT ``payload`` as a signed aws-chunked body over raw HTTP; ``tamper`` edits the body sent."""
    streaming = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD" + ("-TRAILER" if trailer is not None else "")
    headers = {
        "Content-Encoding": "aws-chunked",
        "x-amz-content-sha256": streaming,
        "x-amz-decoded-content-length": str(len(payload)),
        "Content-Length": str(len(signed_aws_chunked(payload, 8192, None, trailer))),
        **({"x-amz-trailer": "x-amz-checksum-crc32"} if trailer is not None else {}),
    }
    path = f"/{BUCKET}/{key}"
    host = server.endpoint_url.split("://", 1)[1]
    signed = sign_s3_headers("PUT", path, headers, host)
    body = signed_aws_chunked(payload, 8192, signed, trailer)
    if tamper is not None:
        body = tamper(body)
    connection = http.client.HTTPConnection(host, timeout=30)
    try:
        connection.putrequest("PUT", path, skip_host=True, skip_accept_encoding=True)
        for name, value in signed.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        answer = response.read()
        return response.status, (ET.fromstring(answer).findtext("Code") or "") if answer else ""
    finally:
        connection.close()


def test_a_signed_chunked_upload_is_stored_after_every_chunk_signature_checks(
    server: EmbeddedServer, s3_client: Any
) -> None:
    """The AWS CLI's and Java/Go SDKs' form: each chunk signed, chained from the request's signature."""
    ensure_bucket(s3_client, BUCKET)
    payload = bytes(range(256)) * 100  # four 8 KiB chunks and a partial one
    assert put_chunked(server, "signed-chunks", payload, None) == (200, "")
    assert s3_client.get_object(Bucket=BUCKET, Key="signed-chunks")["Body"].read() == payload
    crc = base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode()
    assert put_chunked(server, "signed-trailer", payload, [f"x-amz-checksum-crc32:{crc}"]) == (200, "")
    got = s3_client.get_object(Bucket=BUCKET, Key="signed-trailer", ChecksumMode="ENABLED")
    assert got["Body"].read() == payload and got["ChecksumCRC32"] == crc


def flip_a_byte_of_the_second_chunk(body: bytes) -> bytes:
    at = body.index(b"\r\n", body.index(b"2000;chunk-signature=", 100)) + 2 + 10
    return body[:at] + bytes([body[at] ^ 1]) + body[at + 1 :]


def drop_a_chunk_signature(body: bytes) -> bytes:
    at = body.index(b";chunk-signature=", 100)
    return body[:at] + body[at + len(";chunk-signature=") + 64 :]


def swap_the_first_two_chunks(body: bytes) -> bytes:
    second = body.index(b"2000;chunk-signature=", 100)
    third = body.index(b"2000;chunk-signature=", second + 100)
    return body[second:third] + body[:second] + body[third:]


@pytest.mark.parametrize(
    "tamper", [flip_a_byte_of_the_second_chunk, drop_a_chunk_signature, swap_the_first_two_chunks]
)
def test_a_tampered_signed_chunked_upload_is_refused_and_stores_nothing(
    server: EmbeddedServer, s3_client: Any, tamper: Any
) -> None:
    ensure_bucket(s3_client, BUCKET)
    payload = b"chunk data " * 3000  # about 32 KiB: sent whole before the answer comes
    key = f"tampered-{tamper.__name__}"
    assert put_chunked(server, key, payload, None, tamper) == (403, "SignatureDoesNotMatch")
    assert error_of(s3_client.head_object, Bucket=BUCKET, Key=key)[1] == 404


def test_a_tampered_trailer_of_a_signed_chunked_upload_is_refused(
    server: EmbeddedServer, s3_client: Any
) -> None:
    ensure_bucket(s3_client, BUCKET)
    payload = b"z" * 20_000

    def change_checksum(body: bytes) -> bytes:
        return body.replace(b"x-amz-checksum-crc32:AAAAAA==", b"x-amz-checksum-crc32:AAAAAB==")

    trailer = ["x-amz-checksum-crc32:AAAAAA=="]
    assert put_chunked(server, "bad-trailer", payload, trailer, change_checksum) == (
        403,
        "SignatureDoesNotMatch",
    )
    assert error_of(s3_client.head_object, Bucket=BUCKET, Key="bad-trailer")[1] == 404
