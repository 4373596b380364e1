"""The error the request-body parsers raise; a model server turns it into a 400 response."""

from __future__ import annotations


class PayloadError(ValueError):
    """A request body that cannot be read in its content type; the message names the line or record.

    Messages show at most a short excerpt of the offending value, never the payload itself.
    """


def excerpt(text: str, limit: int = 40) -> str:
    """``text`` quoted, cut to ``limit`` characters, for an error message."""
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")
