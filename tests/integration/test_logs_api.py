"""CloudWatch Logs through the real boto3 ``logs`` client against a real server on loopback.

Events are written the way a job runner writes them: with the log store's writer, in the
server's ``logs`` folder, through a store of their own.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from botocore.exceptions import ClientError

from opensage.embedded import EmbeddedServer
from opensage.errors import InvalidParameterError, LogResourceAlreadyExistsError
from opensage.logstore import open_log_store

GROUP = "/aws/sagemaker/TrainingJobs"
START = 1_700_000_000_000


@pytest.fixture()
def job() -> str:
    """A job name of the test's own: the server and its log group are shared by the session."""
    return f"logs-{uuid.uuid4().hex[:12]}"


def _write(server: EmbeddedServer, stream: str, messages: list[str], start: int = START) -> None:
    store = open_log_store(server.settings.logs_dir)
    with store.open_writer(GROUP, stream) as writer:
        for offset, message in enumerate(messages):
            writer.write(message + "\n", timestamp_ms=start + offset)


def _error(raised: pytest.ExceptionInfo[ClientError]) -> tuple[str, str, int]:
    error = raised.value.response["Error"]
    return error["Code"], error["Message"], raised.value.response["ResponseMetadata"]["HTTPStatusCode"]


def test_describe_streams_by_prefix(server: EmbeddedServer, logs_client: Any, job: str) -> None:
    for stream in (f"{job}/algo-1-1700000000", f"{job}/algo-2-1700000000", f"{job}-other/algo-1-1700000000"):
        _write(server, stream, ["starting", "done"])
    streams = logs_client.describe_log_streams(logGroupName=GROUP, logStreamNamePrefix=f"{job}/")[
        "logStreams"
    ]
    assert [s["logStreamName"] for s in streams] == [f"{job}/algo-1-1700000000", f"{job}/algo-2-1700000000"]
    first = streams[0]
    assert (first["firstEventTimestamp"], first["lastEventTimestamp"]) == (START, START + 1)
    assert first["lastIngestionTime"] >= first["creationTime"] > 0
    assert first["storedBytes"] > 0
    assert (
        first["arn"]
        == f"arn:aws:logs:us-east-1:000000000000:log-group:{GROUP}:log-stream:{streams[0]['logStreamName']}"
    )


def test_get_log_events_pages_forward_until_the_token_repeats(
    server: EmbeddedServer, logs_client: Any, job: str
) -> None:
    stream = f"{job}/algo-1-1700000000"
    lines = [f"[{i}] epoch={i} train-rmse={1 / (i + 1):.4f}" for i in range(30)]
    _write(server, stream, lines)
    seen: list[str] = []
    token: str | None = None
    for _ in range(10):
        extra = {"nextToken": token} if token else {}
        page = logs_client.get_log_events(
            logGroupName=GROUP, logStreamName=stream, startFromHead=True, limit=7, **extra
        )
        seen += [event["message"] for event in page["events"]]
        if page["nextForwardToken"] == token:
            assert page["events"] == []
            break
        token = page["nextForwardToken"]
    assert seen == lines
    assert page["events"] == [] and page["nextForwardToken"] == token


def test_get_log_events_pages_backward_from_the_latest(
    server: EmbeddedServer, logs_client: Any, job: str
) -> None:
    stream = f"{job}/algo-1-1700000000"
    lines = [f"line {i}" for i in range(12)]
    _write(server, stream, lines)
    page = logs_client.get_log_events(logGroupName=GROUP, logStreamName=stream, limit=5)
    assert [e["message"] for e in page["events"]] == lines[-5:]
    chunks = [page["events"]]
    while True:
        older = logs_client.get_log_events(
            logGroupName=GROUP, logStreamName=stream, limit=5, nextToken=page["nextBackwardToken"]
        )
        if older["nextBackwardToken"] == page["nextBackwardToken"]:
            break
        chunks.insert(0, older["events"])
        page = older
    assert [e["message"] for chunk in chunks for e in chunk] == lines
    assert all(set(e) == {"timestamp", "message", "ingestionTime"} for chunk in chunks for e in chunk)


def test_filter_log_events_across_two_streams(server: EmbeddedServer, logs_client: Any, job: str) -> None:
    first, second = f"{job}/algo-1-1700000000", f"{job}/algo-2-1700000000"
    _write(server, first, ["ERROR disk", "ok", "WARN slow", "ERROR retrying"], START)
    _write(server, second, ["ok", "WARN hot", "ERROR gpu"], START + 1)
    found = logs_client.filter_log_events(
        logGroupName=GROUP, logStreamNamePrefix=f"{job}/", filterPattern="?ERROR ?WARN -retrying"
    )
    assert [(e["logStreamName"], e["message"]) for e in found["events"]] == [
        (first, "ERROR disk"),
        (first, "WARN slow"),
        (second, "WARN hot"),
        (second, "ERROR gpu"),
    ]
    assert [e["timestamp"] for e in found["events"]] == [START, START + 2, START + 2, START + 3]
    assert "nextToken" not in found
    assert len({e["eventId"] for e in found["events"]}) == 4
    # botocore's paginator follows our tokens through pages of one event each.
    pages = logs_client.get_paginator("filter_log_events").paginate(
        logGroupName=GROUP,
        logStreamNames=[first, second],
        filterPattern="?ERROR ?WARN -retrying",
        PaginationConfig={"PageSize": 1},
    )
    assert [e["eventId"] for page in pages for e in page["events"]] == [e["eventId"] for e in found["events"]]


def test_missing_groups_and_streams_raise_resource_not_found(logs_client: Any, job: str) -> None:
    with pytest.raises(logs_client.exceptions.ResourceNotFoundException) as raised:
        logs_client.get_log_events(logGroupName=f"/{job}/none", logStreamName="s")
    assert _error(raised) == ("ResourceNotFoundException", "The specified log group does not exist.", 400)
    with pytest.raises(logs_client.exceptions.ResourceNotFoundException) as raised:
        logs_client.get_log_events(logGroupName=GROUP, logStreamName=f"{job}/none")
    assert _error(raised)[:2] == ("ResourceNotFoundException", "The specified log stream does not exist.")
    with pytest.raises(logs_client.exceptions.ResourceNotFoundException):
        logs_client.describe_log_streams(logGroupName=f"/{job}/none")
    with pytest.raises(logs_client.exceptions.ResourceNotFoundException):
        logs_client.filter_log_events(logGroupName=f"/{job}/none")


def test_put_log_events_and_read_back(logs_client: Any, job: str) -> None:
    group = f"/opensage/tests/{job}"
    logs_client.create_log_group(logGroupName=group)
    logs_client.create_log_stream(logGroupName=group, logStreamName="app")
    now = logs_client.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["creationTime"]
    result = logs_client.put_log_events(
        logGroupName=group,
        logStreamName="app",
        logEvents=[{"timestamp": now, "message": "hello"}, {"timestamp": now + 1, "message": "multi\nline"}],
    )
    assert "rejectedLogEventsInfo" not in result
    events = logs_client.get_log_events(
        logGroupIdentifier=f"arn:aws:logs:us-east-1:000000000000:log-group:{group}",
        logStreamName="app",
        startFromHead=True,
    )["events"]
    assert [(e["timestamp"], e["message"]) for e in events] == [(now, "hello"), (now + 1, "multi\nline")]
    (described,) = logs_client.describe_log_groups(logGroupNamePrefix=group)["logGroups"]
    assert described["logGroupName"] == group and described["storedBytes"] > 0
    with pytest.raises(ClientError) as raised:
        logs_client.create_log_stream(logGroupName=group, logStreamName="app")
    assert _error(raised)[0] == LogResourceAlreadyExistsError.code and "already exists" in _error(raised)[1]
    logs_client.delete_log_group(logGroupName=group)
    with pytest.raises(logs_client.exceptions.ResourceNotFoundException):
        logs_client.get_log_events(logGroupName=group, logStreamName="app")


def test_put_log_events_out_of_order_is_refused(logs_client: Any, job: str) -> None:
    group = f"/opensage/tests/{job}"
    logs_client.create_log_group(logGroupName=group)
    logs_client.create_log_stream(logGroupName=group, logStreamName="app")
    events = [{"timestamp": START + 1, "message": "b"}, {"timestamp": START, "message": "a"}]
    with pytest.raises(ClientError) as raised:
        logs_client.put_log_events(logGroupName=group, logStreamName="app", logEvents=events)
    assert _error(raised) == (
        InvalidParameterError.code,
        "Log events in a single PutLogEvents request must be in chronological order.",
        400,
    )


@pytest.mark.parametrize(
    ("call", "message"),
    [
        ({"nextToken": "not-a-token"}, "nextToken"),
        ({"nextToken": "f/0000000000000000000/ffffffff"}, "nextToken"),
    ],
)
def test_garbage_tokens_are_client_errors(
    server: EmbeddedServer, logs_client: Any, job: str, call: dict[str, str], message: str
) -> None:
    _write(server, f"{job}/algo-1-1700000000", ["x"])
    with pytest.raises(ClientError) as raised:
        logs_client.get_log_events(logGroupName=GROUP, logStreamName=f"{job}/algo-1-1700000000", **call)
    code, text, status = _error(raised)
    assert (code, status) == (InvalidParameterError.code, 400) and message in text


def test_unsupported_filter_patterns_say_so(server: EmbeddedServer, logs_client: Any, job: str) -> None:
    _write(server, f"{job}/algo-1-1700000000", ["x"])
    with pytest.raises(ClientError) as raised:
        logs_client.filter_log_events(logGroupName=GROUP, filterPattern='{ $.level = "error" }')
    code, text, status = _error(raised)
    assert (code, status) == (InvalidParameterError.code, 400) and "not supported" in text
