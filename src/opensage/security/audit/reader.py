"""Reading the audit trail: the events of a home's segments that match a query, newest first.

Readers need no server: the CLI reads the files of a stopped or running server alike.
Lines that do not parse (torn by a crash) are skipped; lines recording a gap (events the
writer had to drop) are counted so that a reader can say the trail is incomplete.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from opensage.security.audit.events import FORMAT_VERSION, AuditEvent, event_source, resource_type
from opensage.security.audit.writer import SEGMENT_SUFFIX

_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class AuditQuery:
    """What to look for; every criterion given must hold. Names compare case-insensitively."""

    since: datetime | None = None
    until: datetime | None = None
    #: A user name, a principal ARN or an access key id.
    principal: str | None = None
    operation: str | None = None
    #: A signing name (``sagemaker``) or an event source (``sagemaker.amazonaws.com``).
    service: str | None = None
    #: ``ok``, ``error``, or an error code (``NoSuchKey``) or HTTP status (``404``).
    result: str | None = None
    #: A resource ARN or its last path part (the name).
    resource: str | None = None
    #: CloudTrail's type of a resource (``AWS::S3::Object``).
    resource_type: str | None = None
    event_id: str | None = None
    access_key_id: str | None = None
    read_only: bool | None = None

    def matches(self, event: AuditEvent) -> bool:
        return (
            self._in_window(event.event_time)
            and _matches_any(self.principal, (event.user, event.principal_arn, event.access_key_id))
            and _matches_any(self.operation, (event.operation,))
            and _matches_any(self.service, (event.service, event_source(event.service)))
            and _matches_any(self.event_id, (event.event_id,))
            and _matches_any(self.access_key_id, (event.access_key_id,))
            and (self.read_only is None or event.read_only == self.read_only)
            and self._result_matches(event)
            and (
                self.resource is None or any(_resource_matches(self.resource, arn) for arn in event.resources)
            )
            and _matches_any(self.resource_type, tuple(resource_type(arn) for arn in event.resources))
        )

    def _in_window(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment <= self.until)

    def _result_matches(self, event: AuditEvent) -> bool:
        if self.result is None:
            return True
        wanted = self.result.lower()
        if wanted == "ok":
            return event.succeeded
        if wanted == "error":
            return not event.succeeded
        return not event.succeeded and wanted in (event.result.lower(), str(event.status_code))


def _matches_any(wanted: str | None, values: tuple[str | None, ...]) -> bool:
    if wanted is None:
        return True
    folded = wanted.lower()
    return any(value is not None and value.lower() == folded for value in values)


def resource_name(arn: str) -> str:
    """The name part of an ARN (``training-job/x`` -> ``x``; ``arn:aws:s3:::b/k`` -> ``k``)."""
    return arn.rsplit("/", 1)[-1].rsplit(":", 1)[-1] if arn.startswith("arn:") else arn


def _resource_matches(wanted: str, arn: str) -> bool:
    return wanted in (arn, resource_name(arn))


@dataclass
class AuditTrailReader:
    """Queries the segments in one directory."""

    directory: Path
    #: Events the writer reported dropped inside the windows read so far.
    dropped_seen: int = field(default=0, init=False)

    def events(self, query: AuditQuery) -> Iterator[AuditEvent]:
        """Matching events, newest first (ties broken by event id, so paging is stable)."""
        for path in self._segments(query):
            found = [event for event in self._read(path) if query.matches(event)]
            found.sort(key=lambda event: (event.event_time, event.event_id), reverse=True)
            yield from found

    def _segments(self, query: AuditQuery) -> list[Path]:
        if not self.directory.is_dir():
            return []
        chosen = []
        for path in self.directory.glob(f"*{SEGMENT_SUFFIX}"):
            try:
                hour = datetime.strptime(path.name[: -len(SEGMENT_SUFFIX)], "%Y-%m-%dT%H").replace(tzinfo=UTC)
            except ValueError:
                continue
            if query.until is not None and hour > query.until:
                continue
            if query.since is not None and hour + _HOUR <= query.since:
                continue
            chosen.append(path)
        return sorted(chosen, reverse=True)

    def _read(self, path: Path) -> Iterator[AuditEvent]:
        with path.open("rb") as lines:
            for line in lines:
                try:
                    data = json.loads(line)
                    if not isinstance(data, dict) or data.get("v") != FORMAT_VERSION:
                        continue
                    if "dropped" in data:
                        self.dropped_seen += int(data["dropped"])
                        continue
                    yield AuditEvent.from_json(data)
                except (ValueError, KeyError, TypeError):
                    continue  # a line torn by a crash
