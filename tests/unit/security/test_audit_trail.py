"""The audit trail's files: append-only segments, torn lines, losses that are never silent."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from opensage.security.audit import AuditEvent, AuditQuery, AuditTrailReader, AuditTrailWriter

MOMENT = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)


def _event(request_id: str, moment: datetime = MOMENT, **fields: object) -> AuditEvent:
    values: dict[str, object] = {"service": "s3", "status_code": 200, **fields}
    return AuditEvent(event_time=moment, request_id=request_id, **values)  # type: ignore[arg-type]


def _request_ids(directory: Path, query: AuditQuery | None = None) -> list[str]:
    return [event.request_id for event in AuditTrailReader(directory).events(query or AuditQuery())]


def test_events_are_read_back_newest_first_across_hourly_segments(tmp_path: Path) -> None:
    writer = AuditTrailWriter(tmp_path)
    for hours in range(3):
        writer.record(_event(f"r{hours}", MOMENT + timedelta(hours=hours)))
    writer.close()

    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "2026-11-22T10.jsonl",
        "2026-11-22T11.jsonl",
        "2026-11-22T12.jsonl",
    ]
    assert _request_ids(tmp_path) == ["r2", "r1", "r0"]
    assert _request_ids(tmp_path, AuditQuery(since=MOMENT + timedelta(minutes=45))) == ["r2", "r1"]


def test_a_line_torn_by_a_crash_is_skipped_and_the_next_writer_starts_a_new_line(tmp_path: Path) -> None:
    first = AuditTrailWriter(tmp_path)
    first.record(_event("before"))
    first.close()
    segment = tmp_path / "2026-11-22T10.jsonl"
    with segment.open("ab") as torn:
        torn.write(b'{"v":1,"eventTime":"2026-11-22T10:31:00Z","requestId":"torn')

    second = AuditTrailWriter(tmp_path)
    second.record(_event("after", MOMENT + timedelta(minutes=2)))
    second.close()

    assert _request_ids(tmp_path) == ["after", "before"]


def test_the_writer_only_appends(tmp_path: Path) -> None:
    for request_id in ("one", "two"):
        writer = AuditTrailWriter(tmp_path)
        writer.record(_event(request_id))
        writer.close()
    lines = (tmp_path / "2026-11-22T10.jsonl").read_bytes().splitlines()

    assert [b'"requestId":"one"' in lines[0], b'"requestId":"two"' in lines[1]] == [True, True]
    assert (tmp_path / "2026-11-22T10.jsonl").stat().st_mode & 0o777 == 0o600


def test_events_that_cannot_be_kept_are_counted_logged_and_marked_in_the_trail(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    writer = AuditTrailWriter(tmp_path)
    writer.record(_event("kept"))
    writer.close()
    with caplog.at_level(logging.ERROR):
        writer.record(_event("too-late"))
    assert writer.dropped == 1
    assert "1 event(s) dropped" in caplog.text

    # A write that fails (a full disk) is counted, and the gap is written once writing works again.
    full = tmp_path / "full"
    full.mkdir()
    (full / "2026-11-22T10.jsonl").symlink_to("/dev/full")
    broken = AuditTrailWriter(full)
    broken.record(_event("lost"))
    broken.flush()
    broken.record(_event("kept-after", MOMENT + timedelta(hours=1)))
    broken.close()
    (full / "2026-11-22T10.jsonl").unlink()

    reader = AuditTrailReader(full)
    assert [event.request_id for event in reader.events(AuditQuery())] == ["kept-after"]
    assert reader.dropped_seen == broken.dropped == 1


def test_queries_match_principal_result_and_resource(tmp_path: Path) -> None:
    writer = AuditTrailWriter(tmp_path)
    writer.record(_event("ok", user="ana", principal_arn="arn:aws:iam::000000000000:user/ana"))
    writer.record(
        _event("denied", MOMENT + timedelta(seconds=1), status_code=403, error_code="AccessDenied", user="bo")
    )
    writer.record(_event("put", MOMENT + timedelta(seconds=2), resources=("arn:aws:s3:::b/k.csv",)))
    writer.close()

    assert _request_ids(tmp_path, AuditQuery(principal="arn:aws:iam::000000000000:user/ana")) == ["ok"]
    assert _request_ids(tmp_path, AuditQuery(result="error")) == ["denied"]
    assert _request_ids(tmp_path, AuditQuery(result="accessdenied")) == ["denied"]
    assert _request_ids(tmp_path, AuditQuery(result="403")) == ["denied"]
    assert _request_ids(tmp_path, AuditQuery(resource="k.csv")) == ["put"]
    assert _request_ids(tmp_path, AuditQuery(resource_type="AWS::S3::Object")) == ["put"]
