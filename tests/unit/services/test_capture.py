"""Data-capture records: SageMaker's JSON shape and how each content type is encoded."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

from opensage.services.hosting.capture import CaptureEvent, record_line
from opensage.services.hosting.models import CaptureSpec

SPEC = CaptureSpec(destination="s3://b/capture", sampling_percentage=100)
WHEN = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)


def event(
    request: bytes, request_type: str, response: bytes, response_type: str, spec: CaptureSpec = SPEC
) -> dict:
    line = record_line(
        CaptureEvent("ep", "v", spec, request, request_type, response, response_type, WHEN, "id-1")
    )
    return json.loads(line)


def test_csv_and_json_are_kept_as_text() -> None:
    record = event(b"1,2,3", "text/csv", b'{"predictions":[]}', "application/json")
    assert record["captureData"]["endpointInput"] == {
        "observedContentType": "text/csv",
        "mode": "INPUT",
        "data": "1,2,3",
        "encoding": "CSV",
    }
    assert record["captureData"]["endpointOutput"]["encoding"] == "JSON"
    assert record["eventMetadata"]["inferenceTime"] == "2026-03-04T05:06:07.890Z"
    assert record["eventMetadata"]["inferenceId"] == "id-1" and record["eventVersion"] == "0"


def test_other_types_and_undecodable_text_are_base64() -> None:
    record = event(b"\x00\xff", "application/x-recordio-protobuf", b"\xff", "text/csv; charset=utf-8")
    assert record["captureData"]["endpointInput"]["encoding"] == "BASE64"
    assert base64.b64decode(record["captureData"]["endpointInput"]["data"]) == b"\x00\xff"
    assert record["captureData"]["endpointOutput"]["encoding"] == "BASE64"


def test_capture_options_and_custom_content_types() -> None:
    spec = CaptureSpec("s3://b/c", 100, capture_output=False, csv_content_types=["text/x-mine"])
    record = event(b"a,b", "text/x-mine", b"1", "text/csv", spec)
    assert "endpointOutput" not in record["captureData"]
    assert record["captureData"]["endpointInput"]["encoding"] == "CSV"
