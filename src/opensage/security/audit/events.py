"""One audited API call as it is stored: who, from where, what, on which resources, and how it ended.

An event holds names and codes only, never a request or response body, a query string or a
header value: what a call carried is the business of the service it was sent to, and a
trail that copied payloads would leak the data and secrets it is meant to protect.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opensage.security.principal import CallRecord

# Bumped if the stored shape ever changes incompatibly; readers skip versions they do not know.
FORMAT_VERSION = 1

_READ_ONLY_PREFIXES = ("Describe", "List", "Get", "Head", "Lookup", "Search", "Filter", "BatchGet")
# Signing names whose CloudTrail event source is not simply <name>.amazonaws.com.
_TYPE_FAMILIES = {"sagemaker": "SageMaker", "logs": "Logs", "kms": "KMS", "iam": "IAM"}
_EVENT_SOURCES = {
    "sagemaker-runtime": "sagemaker.amazonaws.com",
    "runtime.sagemaker": "sagemaker.amazonaws.com",
}


def event_source(service: str) -> str:
    """CloudTrail's ``eventSource`` for a signing name: ``sagemaker`` -> ``sagemaker.amazonaws.com``."""
    return _EVENT_SOURCES.get(service, f"{service}.amazonaws.com")


def resource_type(arn: str) -> str | None:
    """CloudTrail's resource type of an ARN: ``AWS::SageMaker::TrainingJob``, ``AWS::S3::Object``, ..."""
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    service, rest = parts[2], parts[5]
    if service == "s3":
        return "AWS::S3::Object" if "/" in rest else "AWS::S3::Bucket"
    kind = rest.split("/", 1)[0].split(":", 1)[0]
    family = _TYPE_FAMILIES.get(service, service.capitalize())
    return f"AWS::{family}::" + "".join(word.capitalize() for word in kind.split("-"))


def is_read_only(operation: str | None) -> bool | None:
    """Whether an operation only reads (CloudTrail's ``readOnly``); unknown when the operation is."""
    if operation is None:
        return None
    return operation.startswith(_READ_ONLY_PREFIXES)


@dataclass(frozen=True)
class AuditEvent:
    """One finished API call."""

    event_time: datetime
    request_id: str
    service: str
    status_code: int
    operation: str | None = None
    source_address: str | None = None
    #: The verified user and its ARN; both None when the request was not authenticated.
    user: str | None = None
    principal_arn: str | None = None
    #: The verified key, or the key id an unauthenticated request claimed (never a secret).
    access_key_id: str | None = None
    resources: tuple[str, ...] = ()
    error_code: str | None = None
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))

    @classmethod
    def from_call(
        cls,
        call: CallRecord,
        event_time: datetime,
        status_code: int,
        claimed_key_id: str | None,
        event_id: str | None = None,
    ) -> AuditEvent:
        principal = call.principal
        return cls(
            event_time=event_time,
            request_id=call.request_id,
            service=call.service,
            status_code=status_code,
            operation=call.operation,
            source_address=call.source_address,
            user=principal.user if principal else None,
            principal_arn=principal.arn if principal else None,
            access_key_id=principal.access_key_id if principal else claimed_key_id,
            resources=tuple(call.resources),
            error_code=call.error_code,
            event_id=event_id or str(uuid.uuid4()),
        )

    @property
    def authenticated(self) -> bool:
        return self.principal_arn is not None

    @property
    def succeeded(self) -> bool:
        return self.error_code is None and self.status_code < 400

    @property
    def result(self) -> str:
        """``ok``, or the error code the client was given (the HTTP status when there was none)."""
        if self.succeeded:
            return "ok"
        return self.error_code or str(self.status_code)

    @property
    def read_only(self) -> bool | None:
        return is_read_only(self.operation)

    def to_json(self) -> dict[str, Any]:
        return {
            "v": FORMAT_VERSION,
            "eventTime": self.event_time.astimezone(UTC)
            .isoformat(timespec="microseconds")
            .replace("+00:00", "Z"),
            "eventId": self.event_id,
            "requestId": self.request_id,
            "service": self.service,
            "operation": self.operation,
            "sourceAddress": self.source_address,
            "user": self.user,
            "principalArn": self.principal_arn,
            "accessKeyId": self.access_key_id,
            "resources": list(self.resources),
            "status": self.status_code,
            "errorCode": self.error_code,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AuditEvent:
        """The event a stored line holds; KeyError/ValueError/TypeError when it is not one."""
        return cls(
            event_time=datetime.fromisoformat(data["eventTime"].replace("Z", "+00:00")),
            event_id=str(data["eventId"]),
            request_id=str(data["requestId"]),
            service=str(data["service"]),
            status_code=int(data["status"]),
            operation=data.get("operation"),
            source_address=data.get("sourceAddress"),
            user=data.get("user"),
            principal_arn=data.get("principalArn"),
            access_key_id=data.get("accessKeyId"),
            resources=tuple(str(item) for item in data.get("resources") or ()),
            error_code=data.get("errorCode"),
        )
