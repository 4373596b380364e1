"""Job logs: CloudWatch-style groups of streams of events, shared by job runners and the server."""

from __future__ import annotations

from pathlib import Path

from opensage.logstore.base import (
    InputLogEvent,
    LogEvent,
    LogGroupInfo,
    LogStore,
    LogStreamInfo,
    LogWriter,
)

__all__ = [
    "InputLogEvent",
    "LogEvent",
    "LogGroupInfo",
    "LogStore",
    "LogStreamInfo",
    "LogWriter",
    "open_log_store",
]


def open_log_store(root: Path) -> LogStore:
    """The log store kept under ``root`` (``<OPENSAGE_HOME>/logs``), created on first write."""
    from opensage.logstore.local_logs import LocalLogStore

    return LocalLogStore(root)
