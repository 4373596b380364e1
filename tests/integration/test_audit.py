"""The audit trail end to end: boto3 calls, then `opensage audit` and CloudTrail's LookupEvents find them."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from click.testing import CliRunner
from tests.support import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, make_client, make_settings

from opensage.cli.main import _register, cli
from opensage.embedded import EmbeddedServer

BODY_MARKER = b"BODY-MARKER-7f3a9c-never-in-the-trail"
BUCKET = "audit-trail-bucket"
KEY = "inputs/train.csv"


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedServer]:
    """A server of its own, so the trail holds only this module's calls."""
    with EmbeddedServer(make_settings(tmp_path_factory.mktemp("audit-home"))) as running:
        yield running


@pytest.fixture(scope="module")
def calls(audited: EmbeddedServer) -> dict[str, str]:
    """A few calls, successes and failures; the request id each client saw, by name."""
    s3 = make_client("s3", audited.endpoint_url)
    sagemaker = make_client("sagemaker", audited.endpoint_url)
    seen = {"create": s3.create_bucket(Bucket=BUCKET)["ResponseMetadata"]["RequestId"]}
    seen["put"] = s3.put_object(Bucket=BUCKET, Key=KEY, Body=BODY_MARKER)["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as missing_key:
        s3.get_object(Bucket=BUCKET, Key="no/such/key.csv")
    seen["get_missing"] = missing_key.value.response["ResponseMetadata"]["RequestId"]
    with pytest.raises(ClientError) as missing_job:
        sagemaker.describe_training_job(TrainingJobName="audit-no-such-job")
    seen["describe_missing"] = missing_job.value.response["ResponseMetadata"]["RequestId"]
    seen["list"] = sagemaker.list_training_jobs()["ResponseMetadata"]["RequestId"]
    # A presigned URL carries its signature in the query string; the trail must not keep it.
    url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": KEY})
    with urllib.request.urlopen(url) as response:
        assert response.read() == BODY_MARKER
        seen["presigned"] = response.headers["x-amz-request-id"]
    return seen


def _lookup(server: EmbeddedServer, **request: Any) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = make_client("cloudtrail", server.endpoint_url).lookup_events(**request)[
        "Events"
    ]
    return events


def _by_request_id(events: list[dict[str, Any]], request_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    for event in events:
        record = json.loads(event["CloudTrailEvent"])
        if record["requestID"] == request_id:
            return event, record
    raise AssertionError(f"no event has request id {request_id}")


def test_lookup_events_finds_a_successful_call_with_its_principal_resource_and_request_id(
    audited: EmbeddedServer, calls: dict[str, str]
) -> None:
    events = _lookup(audited, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "PutObject"}])

    event, record = _by_request_id(events, calls["put"])

    assert event["EventName"] == "PutObject"
    assert event["EventSource"] == "s3.amazonaws.com"
    assert event["AccessKeyId"] == TEST_ACCESS_KEY_ID
    assert event["Username"] == "admin"
    assert event["ReadOnly"] == "false"
    assert event["Resources"] == [
        {"ResourceType": "AWS::S3::Object", "ResourceName": f"arn:aws:s3:::{BUCKET}/{KEY}"}
    ]
    assert record["eventSource"] == "s3.amazonaws.com"
    assert record["eventName"] == "PutObject"
    assert record["eventID"] == event["EventId"]
    assert record["awsRegion"] == "us-east-1"
    assert record["sourceIPAddress"] == "127.0.0.1"
    assert record["userIdentity"]["arn"] == "arn:aws:iam::000000000000:user/admin"
    assert record["userIdentity"]["accessKeyId"] == TEST_ACCESS_KEY_ID
    assert "errorCode" not in record


def test_lookup_events_records_failures_with_the_error_code_the_client_got(
    audited: EmbeddedServer, calls: dict[str, str]
) -> None:
    events = _lookup(audited, StartTime=0)

    _, s3_record = _by_request_id(events, calls["get_missing"])
    described, sagemaker_record = _by_request_id(events, calls["describe_missing"])

    assert (s3_record["eventName"], s3_record["errorCode"]) == ("GetObject", "NoSuchKey")
    assert (sagemaker_record["eventName"], sagemaker_record["errorCode"]) == (
        "DescribeTrainingJob",
        "ValidationException",
    )
    assert described["EventSource"] == "sagemaker.amazonaws.com"
    assert described["ReadOnly"] == "true"


def test_lookup_by_resource_name_and_user(audited: EmbeddedServer, calls: dict[str, str]) -> None:
    by_resource = _lookup(
        audited,
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": f"arn:aws:s3:::{BUCKET}"}],
    )
    by_user = _lookup(audited, LookupAttributes=[{"AttributeKey": "Username", "AttributeValue": "admin"}])

    assert [json.loads(event["CloudTrailEvent"])["requestID"] for event in by_resource] == [calls["create"]]
    assert {calls["put"], calls["list"]} <= {
        json.loads(event["CloudTrailEvent"])["requestID"] for event in by_user
    }


def test_lookup_events_pages_newest_first_with_next_token(
    audited: EmbeddedServer, calls: dict[str, str]
) -> None:
    client = make_client("cloudtrail", audited.endpoint_url)
    everything = client.lookup_events(StartTime=0)["Events"]
    paged: list[dict[str, Any]] = []
    request: dict[str, Any] = {"StartTime": 0, "MaxResults": 2}
    while True:
        page = client.lookup_events(**request)
        paged.extend(page["Events"])
        if "NextToken" not in page:
            break
        request["NextToken"] = page["NextToken"]

    # The lookups themselves are recorded too; compare the calls made before the first one.
    first = [event["EventId"] for event in everything]
    assert [event["EventId"] for event in paged][-len(first) :] == first
    times = [event["EventTime"] for event in paged]
    assert times == sorted(times, reverse=True)


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"NextToken": "not-a-token"}, "InvalidNextTokenException"),
        (
            {
                "LookupAttributes": [
                    {"AttributeKey": "EventName", "AttributeValue": "PutObject"},
                    {"AttributeKey": "Username", "AttributeValue": "admin"},
                ]
            },
            "InvalidLookupAttributesException",
        ),
        ({"StartTime": 2_000_000_000, "EndTime": 1_000_000_000}, "InvalidTimeRangeException"),
    ],
)
def test_lookup_events_refuses_bad_requests_with_cloudtrails_codes(
    audited: EmbeddedServer, request_: dict[str, Any], code: str
) -> None:
    with pytest.raises(ClientError) as refused:
        make_client("cloudtrail", audited.endpoint_url).lookup_events(**request_)
    assert refused.value.response["Error"]["Code"] == code


def _audit_cli(home: Path, *arguments: str) -> list[dict[str, Any]]:
    _register()
    result = CliRunner().invoke(cli, ["--home", str(home), "audit", "--json", *arguments])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def test_audit_cli_filters_by_operation_result_principal_and_time(
    audited: EmbeddedServer, calls: dict[str, str]
) -> None:
    _lookup(audited)  # a lookup writes out every call answered before it
    home = audited.settings.home

    failed = _audit_cli(home, "--since", "1h", "--operation", "GetObject", "--result", "NoSuchKey")
    by_key = _audit_cli(
        home, "--principal", TEST_ACCESS_KEY_ID, "--service", "sagemaker", "--result", "error"
    )
    ok = _audit_cli(
        home, "--principal", "arn:aws:iam::000000000000:user/admin", "--result", "ok", "--limit", "100"
    )
    future = _audit_cli(home, "--since", "2099-01-01T00:00")

    assert [(event["requestId"], event["errorCode"], event["status"]) for event in failed] == [
        (calls["get_missing"], "NoSuchKey", 404)
    ]
    assert [event["requestId"] for event in by_key] == [calls["describe_missing"]]
    assert {calls["create"], calls["put"], calls["list"], calls["presigned"]} <= {
        event["requestId"] for event in ok
    }
    assert not {calls["get_missing"], calls["describe_missing"]} & {event["requestId"] for event in ok}
    assert future == []


def test_audit_cli_table_shows_the_calls(audited: EmbeddedServer, calls: dict[str, str]) -> None:
    _lookup(audited)
    _register()
    result = CliRunner().invoke(
        cli,
        ["--home", str(audited.settings.home), "audit", "--operation", "PutObject"],
        env={"COLUMNS": "250"},
    )

    assert result.exit_code == 0, result.output
    assert "PutObject" in result.output and calls["put"] in result.output and "admin" in result.output


def test_the_trail_keeps_no_payloads_signatures_or_secrets(
    audited: EmbeddedServer, calls: dict[str, str]
) -> None:
    _lookup(audited)
    stored = b"".join(path.read_bytes() for path in sorted(audited.settings.audit_dir.iterdir()))

    assert calls["presigned"].encode() in stored
    for secret_or_payload in (
        BODY_MARKER,
        TEST_SECRET_ACCESS_KEY.encode(),
        b"Signature",
        b"X-Amz-",
        b"AWS4-HMAC",
    ):
        assert secret_or_payload not in stored
    assert all(path.stat().st_mode & 0o077 == 0 for path in audited.settings.audit_dir.iterdir())


def test_records_survive_a_server_restart(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    with EmbeddedServer(settings) as first:
        request_id = make_client("s3", first.endpoint_url).create_bucket(Bucket="before-restart")[
            "ResponseMetadata"
        ]["RequestId"]
    # Nothing flushed it: shutting down writes what was queued.
    with EmbeddedServer(make_settings(tmp_path)) as second:
        events = _lookup(
            second, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "CreateBucket"}]
        )

    _by_request_id(events, request_id)
    # The second server appended to the same hour's segment: both servers' calls are there.
    operations = [event["operation"] for event in _audit_cli(tmp_path)]
    assert operations == ["LookupEvents", "CreateBucket"]


def test_a_request_authentication_refuses_is_recorded_with_the_key_it_claimed(
    audited: EmbeddedServer,
) -> None:
    import boto3

    stranger = boto3.client(
        "s3",
        endpoint_url=audited.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="AKIAUNKNOWNAUDITKEY0",
        aws_secret_access_key="x" * 40,
    )
    with pytest.raises(ClientError) as refused:
        stranger.list_buckets()
    request_id = refused.value.response["ResponseMetadata"]["RequestId"]

    events = _lookup(
        audited, LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": "AKIAUNKNOWNAUDITKEY0"}]
    )

    event, record = _by_request_id(events, request_id)
    assert "Username" not in event
    assert (record["eventName"], record["errorCode"]) == ("ListBuckets", "InvalidAccessKeyId")
    assert record["userIdentity"] == {"type": "Unknown", "accessKeyId": "AKIAUNKNOWNAUDITKEY0"}
