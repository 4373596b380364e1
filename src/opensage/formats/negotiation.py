"""Choose a request's media type from its Content-Type and the response's from its Accept header.

Media types are compared lower case without parameters (``text/csv; charset=utf-8`` is
``text/csv``). An Accept header is a comma list whose entries may carry a ``q`` weight; the
entries are tried from the highest weight down, in the order given when weights tie, and the
first one the server supports wins. ``*/*`` (or no header) asks for the server's default;
``text/*`` for the default if it is text, else the first supported text type.
"""

from __future__ import annotations

from collections.abc import Sequence

ANY = "*/*"


def media_type(header: str | None) -> str | None:
    """The media type of a Content-Type header, lower case, without parameters; None when empty."""
    if header is None:
        return None
    value = header.partition(";")[0].strip().lower()
    return value or None


def choose_accept(header: str | None, supported: Sequence[str], default: str) -> str | None:
    """The supported media type an Accept header asks for first; ``default`` for none or ``*/*``.

    None when every entry names something unsupported (the server answers 406).
    """
    if header is None or not header.strip():
        return default
    if "," not in header and ";" not in header:
        # The common case, one bare media type, without the general parse.
        return _match(header.strip().lower(), supported, default)
    for wanted in _by_preference(header):
        chosen = _match(wanted, supported, default)
        if chosen is not None:
            return chosen
    return None


def _by_preference(header: str) -> list[str]:
    """The media types of an Accept header, highest ``q`` first (stable); ``q=0`` ones left out."""
    weighted = []
    for position, entry in enumerate(header.split(",")):
        name, *parameters = entry.split(";")
        name = name.strip().lower()
        weight = _weight(parameters)
        if name and weight > 0:
            weighted.append((-weight, position, name))
    return [name for _, _, name in sorted(weighted)]


def _weight(parameters: list[str]) -> float:
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "q":
            try:
                weight = float(value.strip())
            except ValueError:
                return 1.0  # a malformed weight does not make the type unacceptable
            return weight if 0.0 <= weight <= 1.0 else 1.0
    return 1.0


def _match(wanted: str, supported: Sequence[str], default: str) -> str | None:
    if wanted == ANY:
        return default
    if wanted.endswith("/*"):
        family = wanted[:-1]
        if default.startswith(family):
            return default
        return next((candidate for candidate in supported if candidate.startswith(family)), None)
    return wanted if wanted in supported else None
