"""CloudTrail's LookupEvents over the audit trail (``CloudTrail_20131101``, JSON 1.1).

The subset that answers "who did what": one lookup attribute (EventId, EventName,
Username, ResourceName, ResourceType, EventSource, AccessKeyId, ReadOnly), StartTime and
EndTime, MaxResults (default and maximum 50) and NextToken. Every call opensage served is
an event, not only management events; there are no Insights events. ``CloudTrailEvent`` is
the record in CloudTrail's shape, without request parameters or response elements, which
the trail never keeps.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from opensage.api.json_protocol import JsonHandler
from opensage.errors import InvalidLookupAttributesError, InvalidNextTokenError, InvalidTimeRangeError
from opensage.security.audit import AuditEvent, AuditQuery, AuditTrailReader, event_source, resource_type

Params = dict[str, Any]
DEFAULT_MAX_RESULTS = 50
# CloudTrail's record version whose fields these records carry.
EVENT_VERSION = "1.08"

_ATTRIBUTES: dict[str, Callable[[str], dict[str, Any]]] = {
    "EventId": lambda value: {"event_id": value},
    "EventName": lambda value: {"operation": value},
    "Username": lambda value: {"principal": value},
    "ResourceName": lambda value: {"resource": value},
    "ResourceType": lambda value: {"resource_type": value},
    "EventSource": lambda value: {"service": value},
    "AccessKeyId": lambda value: {"access_key_id": value},
    "ReadOnly": lambda value: {"read_only": value.lower() == "true"},
}


class CloudTrailHandlers:
    """LookupEvents over one home's trail; ``flush`` first, so a lookup sees every call answered before it."""

    def __init__(
        self, reader: AuditTrailReader, flush: Callable[[], object], region: str, account_id: str
    ) -> None:
        self.reader = reader
        self.flush = flush
        self.region = region
        self.account_id = account_id

    def lookup_events(self, params: Params) -> dict[str, Any]:
        query = _query(params)
        if params.get("EventCategory") == "insight":
            return {"Events": []}
        limit = params.get("MaxResults") or DEFAULT_MAX_RESULTS
        fingerprint = _fingerprint(params)
        after = _position(params["NextToken"], fingerprint) if params.get("NextToken") else None
        self.flush()
        page: list[AuditEvent] = []
        more = False
        for event in self.reader.events(query):
            if after is not None and (event.event_time.isoformat(), event.event_id) >= after:
                continue
            if len(page) == limit:
                more = True
                break
            page.append(event)
        result: dict[str, Any] = {"Events": [self._event(event) for event in page]}
        if more:
            last = page[-1]
            result["NextToken"] = _token(last.event_time.isoformat(), last.event_id, fingerprint)
        return result

    def _event(self, event: AuditEvent) -> dict[str, Any]:
        wire: dict[str, Any] = {
            "EventId": event.event_id,
            "EventName": event.operation or "Unknown",
            "EventTime": event.event_time,
            "EventSource": event_source(event.service),
            "Resources": [
                {"ResourceType": resource_type(arn), "ResourceName": arn} for arn in event.resources
            ],
            "CloudTrailEvent": json.dumps(self._record(event), separators=(",", ":")),
        }
        if event.read_only is not None:
            wire["ReadOnly"] = "true" if event.read_only else "false"
        if event.access_key_id:
            wire["AccessKeyId"] = event.access_key_id
        if event.user:
            wire["Username"] = event.user
        return wire

    def _record(self, event: AuditEvent) -> dict[str, Any]:
        """The event as a CloudTrail record (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html)."""
        identity: dict[str, Any] = {"type": "IAMUser" if event.authenticated else "Unknown"}
        if event.authenticated:
            identity.update(arn=event.principal_arn, accountId=self.account_id, userName=event.user)
        if event.access_key_id:
            identity["accessKeyId"] = event.access_key_id
        record: dict[str, Any] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": identity,
            "eventTime": event.event_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "eventSource": event_source(event.service),
            "eventName": event.operation or "Unknown",
            "awsRegion": self.region,
            "sourceIPAddress": event.source_address,
            "requestParameters": None,
            "responseElements": None,
            "requestID": event.request_id,
            "eventID": event.event_id,
            "readOnly": event.read_only,
            "resources": [
                {"ARN": arn, "accountId": self.account_id, "type": resource_type(arn)}
                for arn in event.resources
            ],
            "eventType": "AwsApiCall",
            "managementEvent": True,
            "recipientAccountId": self.account_id,
            "eventCategory": "Management",
        }
        if not event.succeeded:
            record["errorCode"] = event.result
        return record


def _query(params: Params) -> AuditQuery:
    start: datetime | None = params.get("StartTime")
    end: datetime | None = params.get("EndTime")
    if start is not None and end is not None and start > end:
        raise InvalidTimeRangeError("StartTime must be earlier than or the same as EndTime.")
    attributes = params.get("LookupAttributes") or []
    if len(attributes) > 1:
        raise InvalidLookupAttributesError("You can look up events by only one attribute at a time.")
    criteria: dict[str, Any] = {}
    for attribute in attributes:
        criteria = _ATTRIBUTES[attribute["AttributeKey"]](attribute["AttributeValue"])
    return AuditQuery(since=start, until=end, **criteria)


def _fingerprint(params: Params) -> str:
    """What a NextToken is valid for: the same attributes and time range."""
    criteria = {key: params.get(key) for key in ("LookupAttributes", "StartTime", "EndTime", "EventCategory")}
    return hashlib.sha256(repr(criteria).encode()).hexdigest()[:16]


def _token(moment: str, event_id: str, fingerprint: str) -> str:
    raw = json.dumps({"t": moment, "e": event_id, "q": fingerprint}).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii")


def _position(token: str, fingerprint: str) -> tuple[str, str]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
        moment, event_id, issued_for = str(data["t"]), str(data["e"]), data["q"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeError) as exc:
        raise InvalidNextTokenError("The NextToken is not valid.") from exc
    if issued_for != fingerprint:
        raise InvalidNextTokenError("The NextToken was issued for other lookup attributes or times.")
    return moment, event_id


def build_handlers(
    reader: AuditTrailReader, flush: Callable[[], object], region: str, account_id: str
) -> dict[str, JsonHandler]:
    handlers = CloudTrailHandlers(reader, flush, region, account_id)
    return {"LookupEvents": handlers.lookup_events}
