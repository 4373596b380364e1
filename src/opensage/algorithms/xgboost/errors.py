"""Turn XGBoost's native error text into a short message fit for a job's FailureReason."""

from __future__ import annotations

import re

# "[20:52:46] /workspace/src/tree/tree_updater.cc:20: " and "- [comm.cc:220|20:45:54]: "
_LOCATION = re.compile(r"^(?:(?:- )?\[[^\]]*\]:?\s*(?:\S+\.(?:cc|cu|h):\d+:\s*)?)+")
_MAX_CHARS = 400


def clean_xgboost_message(text: str) -> str:
    """The readable part of an XGBoost error: no timestamps, source locations or stack trace."""
    head = text.split("Stack trace:", 1)[0]
    lines = [_LOCATION.sub("", line).strip() for line in head.splitlines()]
    message = " ".join(line for line in lines if line)
    return message if len(message) <= _MAX_CHARS else message[: _MAX_CHARS - 3] + "..."
