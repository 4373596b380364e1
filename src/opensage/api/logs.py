"""The CloudWatch Logs (``Logs_20140328``) JSON adapter: wire dicts in, LogsService calls, wire dicts out.

Requests arrive validated against botocore's ``logs`` model (required members present, types,
enums, lengths), so handlers only translate names; CloudWatch's rules live in the service.
"""

from __future__ import annotations

from typing import Any

from opensage.api.json_protocol import JsonHandler
from opensage.errors import InvalidParameterError
from opensage.logstore.base import InputLogEvent, LogEvent, LogGroupInfo, LogStreamInfo
from opensage.services.logs import FilteredEvent, LogsService, StreamOrder

Params = dict[str, Any]


def _event(event: LogEvent) -> dict[str, Any]:
    return {"timestamp": event.timestamp, "message": event.message, "ingestionTime": event.ingestion_time}


def _filtered_event(found: FilteredEvent) -> dict[str, Any]:
    return {"logStreamName": found.stream, "eventId": found.event_id, **_event(found.event)}


class _LogsHandlers:
    """One method per operation, each ``params -> response``."""

    def __init__(self, service: LogsService) -> None:
        self.service = service

    def _group(self, params: Params) -> str:
        return self.service.resolve_group(params.get("logGroupName"), params.get("logGroupIdentifier"))

    def _group_description(self, info: LogGroupInfo) -> dict[str, Any]:
        arn = self.service.group_arn(info.name)
        return {
            "logGroupName": info.name,
            "creationTime": info.creation_time,
            "metricFilterCount": 0,
            "arn": f"{arn}:*",
            "logGroupArn": arn,
            "storedBytes": info.stored_bytes,
            "logGroupClass": "STANDARD",
        }

    def _stream_description(self, info: LogStreamInfo) -> dict[str, Any]:
        return {
            "logStreamName": info.name,
            "creationTime": info.creation_time,
            "firstEventTimestamp": info.first_event_timestamp,
            "lastEventTimestamp": info.last_event_timestamp,
            "lastIngestionTime": info.last_ingestion_time,
            "arn": self.service.stream_arn(info.group, info.name),
            "storedBytes": info.stored_bytes,
        }

    def create_log_group(self, params: Params) -> dict[str, Any]:
        unsupported = [name for name in ("kmsKeyId", "tags") if params.get(name)]
        if unsupported:
            raise InvalidParameterError(
                f"opensage does not keep {' or '.join(unsupported)} for log groups yet; "
                "create the group without them"
            )
        self.service.create_log_group(params["logGroupName"])
        return {}

    def delete_log_group(self, params: Params) -> dict[str, Any]:
        self.service.delete_log_group(params["logGroupName"])
        return {}

    def create_log_stream(self, params: Params) -> dict[str, Any]:
        self.service.create_log_stream(params["logGroupName"], params["logStreamName"])
        return {}

    def delete_log_stream(self, params: Params) -> dict[str, Any]:
        self.service.delete_log_stream(params["logGroupName"], params["logStreamName"])
        return {}

    def describe_log_groups(self, params: Params) -> dict[str, Any]:
        identifiers = params.get("logGroupIdentifiers")
        groups = None if identifiers is None else [self.service.resolve_group(None, i) for i in identifiers]
        page = self.service.describe_log_groups(
            prefix=params.get("logGroupNamePrefix"),
            pattern=params.get("logGroupNamePattern"),
            groups=groups,
            limit=params.get("limit"),
            next_token=params.get("nextToken"),
        )
        # Every group here is STANDARD; asking for another class finds none.
        wanted_class = params.get("logGroupClass", "STANDARD")
        described = (
            [self._group_description(info) for info in page.groups] if wanted_class == "STANDARD" else []
        )
        return {"logGroups": described, "nextToken": page.next_token}

    def describe_log_streams(self, params: Params) -> dict[str, Any]:
        page = self.service.describe_log_streams(
            self._group(params),
            prefix=params.get("logStreamNamePrefix"),
            order_by=StreamOrder(params.get("orderBy", StreamOrder.LOG_STREAM_NAME)),
            descending=params.get("descending", False),
            limit=params.get("limit"),
            next_token=params.get("nextToken"),
        )
        return {
            "logStreams": [self._stream_description(info) for info in page.streams],
            "nextToken": page.next_token,
        }

    def get_log_events(self, params: Params) -> dict[str, Any]:
        page = self.service.get_log_events(
            self._group(params),
            params["logStreamName"],
            start_time=params.get("startTime"),
            end_time=params.get("endTime"),
            next_token=params.get("nextToken"),
            limit=params.get("limit"),
            start_from_head=params.get("startFromHead", False),
        )
        return {
            "events": [_event(event) for event in page.events],
            "nextForwardToken": page.next_forward_token,
            "nextBackwardToken": page.next_backward_token,
        }

    def filter_log_events(self, params: Params) -> dict[str, Any]:
        page = self.service.filter_log_events(
            self._group(params),
            stream_names=params.get("logStreamNames"),
            stream_prefix=params.get("logStreamNamePrefix"),
            start_time=params.get("startTime"),
            end_time=params.get("endTime"),
            filter_pattern=params.get("filterPattern"),
            next_token=params.get("nextToken"),
            limit=params.get("limit"),
            start_from_head=params.get("startFromHead", True),
        )
        return {"events": [_filtered_event(found) for found in page.events], "nextToken": page.next_token}

    def put_log_events(self, params: Params) -> dict[str, Any]:
        events = [InputLogEvent(event["timestamp"], event["message"]) for event in params["logEvents"]]
        result = self.service.put_log_events(params["logGroupName"], params["logStreamName"], events)
        rejected = {
            "tooNewLogEventStartIndex": result.too_new_start_index,
            "tooOldLogEventEndIndex": result.too_old_end_index,
        }
        response: dict[str, Any] = {"nextSequenceToken": result.next_sequence_token}
        if any(value is not None for value in rejected.values()):
            response["rejectedLogEventsInfo"] = rejected
        return response


def build_handlers(service: LogsService) -> dict[str, JsonHandler]:
    """The operations this adapter serves; any other Logs operation is answered as not implemented."""
    handlers = _LogsHandlers(service)
    return {
        "CreateLogGroup": handlers.create_log_group,
        "DeleteLogGroup": handlers.delete_log_group,
        "CreateLogStream": handlers.create_log_stream,
        "DeleteLogStream": handlers.delete_log_stream,
        "DescribeLogGroups": handlers.describe_log_groups,
        "DescribeLogStreams": handlers.describe_log_streams,
        "GetLogEvents": handlers.get_log_events,
        "FilterLogEvents": handlers.filter_log_events,
        "PutLogEvents": handlers.put_log_events,
    }
