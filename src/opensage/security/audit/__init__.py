"""The audit trail: an append-only record of every API call, and the queries over it."""

from opensage.security.audit.events import AuditEvent, event_source, is_read_only, resource_type
from opensage.security.audit.reader import AuditQuery, AuditTrailReader, resource_name
from opensage.security.audit.writer import AuditTrailWriter

__all__ = [
    "AuditEvent",
    "AuditQuery",
    "AuditTrailReader",
    "AuditTrailWriter",
    "event_source",
    "is_read_only",
    "resource_name",
    "resource_type",
]
