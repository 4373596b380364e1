"""Request limits: bodies over their API's limit are refused unread, and a full server throttles.

Every refusal is the API's own error, as botocore reports it, and leaves nothing stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from tests.raw_http import JSON_CONTENT_TYPE, OpenRequest, chunked, send, signed_headers
from tests.support import ensure_bucket, make_client, make_settings

from opensage.embedded import EmbeddedServer

MiB = 1024 * 1024


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, int]:
    response: Any = raised.value.response
    return response["Error"]["Code"], response["ResponseMetadata"]["HTTPStatusCode"]


def _keys(s3: Any, bucket: str) -> list[str]:
    return [item["Key"] for item in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _refused_unread(
    server: EmbeddedServer, method: str, path: str, service: str, headers: dict[str, str]
) -> Any:
    """Send only the headers of a request that announces ``Content-Length``; the answer comes unread."""
    signed = signed_headers(server.endpoint_url, method, path, service, b"", headers)
    request = OpenRequest(server.endpoint_url, method, path, {**signed, **headers})
    try:
        return request.answer()
    finally:
        request.close()


def test_an_oversized_sagemaker_body_is_refused_from_its_content_length(server: EmbeddedServer) -> None:
    headers = {"X-Amz-Target": "SageMaker.ListModels", "Content-Type": JSON_CONTENT_TYPE}
    answer = _refused_unread(server, "POST", "/", "sagemaker", {**headers, "Content-Length": str(9 * MiB)})
    assert answer.status == 413
    error = json.loads(answer.body)
    assert error["__type"] == "ValidationException"
    assert "9437184 bytes" in error["message"] and "8388608" in error["message"]


def test_an_oversized_object_is_entity_too_large_and_nothing_is_stored(
    server: EmbeddedServer, s3_client: Any
) -> None:
    ensure_bucket(s3_client, "limits-objects")
    headers = {"Content-Length": str(5 * 1024**3 + 1)}
    answer = _refused_unread(server, "PUT", "/limits-objects/huge.bin", "s3", headers)
    assert answer.status == 400
    assert b"<Code>EntityTooLarge</Code>" in answer.body
    assert _keys(s3_client, "limits-objects") == []


def test_a_chunked_xml_body_is_cut_off_once_past_its_limit(server: EmbeddedServer, s3_client: Any) -> None:
    ensure_bucket(s3_client, "limits-xml")
    s3_client.put_object(Bucket="limits-xml", Key="kept", Body=b"1")
    path = "/limits-xml?delete="
    body = b"<Delete>" + b"<Object><Key>kept</Key></Object>" * (3 * MiB // 32) + b"</Delete>"
    signed = signed_headers(server.endpoint_url, "POST", path, "s3", b"", {})
    request = OpenRequest(server.endpoint_url, "POST", path, {**signed, "Transfer-Encoding": "chunked"})
    try:
        request.send_body(chunked(body))
        answer = request.answer()
    finally:
        request.close()
    assert answer.status == 400
    assert b"<Code>MaxMessageLengthExceeded</Code>" in answer.body
    assert _keys(s3_client, "limits-xml") == ["kept"]


def test_put_log_events_over_its_limit_is_invalid_parameter(logs_client: Any) -> None:
    logs_client.create_log_group(logGroupName="limits-group")
    logs_client.create_log_stream(logGroupName="limits-group", logStreamName="s")
    events = [{"timestamp": 1_700_000_000_000 + i, "message": "é" * 300_000} for i in range(3)]
    with pytest.raises(ClientError) as raised:
        logs_client.put_log_events(logGroupName="limits-group", logStreamName="s", logEvents=events)
    assert _error(raised) == ("InvalidParameterException", 400)  # CloudWatch Logs' own answer
    assert "5400204 bytes" in str(raised.value)
    stored = logs_client.get_log_events(logGroupName="limits-group", logStreamName="s")
    assert stored["events"] == []


def test_invoke_endpoint_over_6_mb_is_a_validation_error(server: EmbeddedServer) -> None:
    runtime = make_client("sagemaker-runtime", server.endpoint_url, retries=0)
    with pytest.raises(ClientError) as raised:
        runtime.invoke_endpoint(EndpointName="any", Body=b"1" * (6 * MiB + 1), ContentType="text/csv")
    assert _error(raised) == ("ValidationError", 413)
    assert "6291456 bytes" in str(raised.value)


@pytest.fixture(scope="module")
def one_at_a_time(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    home: Path = tmp_path_factory.mktemp("limits-home")
    with EmbeddedServer(make_settings(home, max_concurrent_requests=1)) as running:
        yield running


def test_a_full_server_throttles_each_api_in_its_own_shape_then_recovers(
    one_at_a_time: EmbeddedServer,
) -> None:
    url = one_at_a_time.endpoint_url
    s3 = make_client("s3", url, retries=0)
    s3.create_bucket(Bucket="throttle")
    # A PutObject whose body the server is waiting for: 100 Continue proves it is in flight.
    path = "/throttle/held.txt"
    headers = {"Content-Length": "5", "Expect": "100-continue"}
    held = OpenRequest(
        url, "PUT", path, {**signed_headers(url, "PUT", path, "s3", b"hello", headers), **headers}
    )
    try:
        assert held.read_interim() == 100
        with pytest.raises(ClientError) as raised:
            s3.list_buckets()
        assert _error(raised) == ("SlowDown", 503)
        with pytest.raises(ClientError) as raised:
            make_client("sagemaker", url, retries=0).list_models()
        assert _error(raised) == ("ThrottlingException", 400)
        assert raised.value.response["Error"]["Message"] == "Rate exceeded"
        with pytest.raises(ClientError) as raised:
            runtime = make_client("sagemaker-runtime", url, retries=0)
            runtime.invoke_endpoint(EndpointName="e", Body=b"1", ContentType="text/csv")
        assert _error(raised) == ("ThrottlingException", 400)
        assert send(url, "GET", "/health", "s3").status == 200  # health is never throttled
        held.send_body([b"hello"])
        done = held.answer()
        assert done.status == 200, done.body
    finally:
        held.close()
    # The slot is free again; botocore's own retries ride out a throttled moment.
    assert s3.get_object(Bucket="throttle", Key="held.txt")["Body"].read() == b"hello"
    assert make_client("sagemaker", url).list_models()["Models"] == []
