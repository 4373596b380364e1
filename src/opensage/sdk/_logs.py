"""A job's log as CloudWatch Logs serves it: every stream ``<job>/...`` of its log group, read forward."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class LogLine:
    stream: str
    timestamp_ms: int
    message: str


class LogReader:
    """Reads each of a job's log streams from where the previous read left it."""

    def __init__(self, logs: Any, group: str, job_name: str) -> None:
        self._logs = logs
        self._group = group
        self._prefix = f"{job_name}/"
        self._tokens: dict[str, str] = {}

    def read_new(self) -> Iterator[LogLine]:
        """Every event not read before: stream by stream, each in order."""
        for stream in self._streams():
            yield from self._read_stream(stream)

    def _read_stream(self, stream: str) -> Iterator[LogLine]:
        while True:
            request: dict[str, Any] = {
                "logGroupName": self._group,
                "logStreamName": stream,
                "startFromHead": True,
            }
            if stream in self._tokens:
                request["nextToken"] = self._tokens[stream]
            page = self._logs.get_log_events(**request)
            for event in page["events"]:
                yield LogLine(stream, int(event["timestamp"]), str(event["message"]))
            token = str(page["nextForwardToken"])
            # CloudWatch Logs answers the same token again once a stream has nothing newer.
            finished = not page["events"] or token == self._tokens.get(stream)
            self._tokens[stream] = token
            if finished:
                return

    def _streams(self) -> list[str]:
        from botocore.exceptions import ClientError

        names: list[str] = []
        request: dict[str, Any] = {"logGroupName": self._group, "logStreamNamePrefix": self._prefix}
        try:
            while True:
                page = self._logs.describe_log_streams(**request)
                names.extend(str(stream["logStreamName"]) for stream in page["logStreams"])
                if not page.get("nextToken"):
                    break
                request["nextToken"] = page["nextToken"]
        except ClientError as error:
            # The group appears with the first job that logs; before that there is nothing to read.
            if error.response.get("Error", {}).get("Code") == "ResourceNotFoundException":
                return []
            raise
        return sorted(names)
