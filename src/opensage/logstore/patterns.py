"""CloudWatch Logs filter patterns for unstructured text: which events FilterLogEvents returns.

Supported, as CloudWatch defines them (case-sensitive):

* ``ERROR Exception``      every term must appear
* ``"Failed to connect"``  a quoted term is matched as one phrase (``\\"`` is a literal quote)
* ``?ERROR ?WARN``         at least one ``?`` term must appear
* ``ERROR -Retrying``      no ``-`` term may appear (``-"quoted phrases"`` too)
* an empty pattern, or ``""``, matches every event

JSON (``{ $.level = "error" }``), space-delimited (``[ip, user, ...]``) and regular-expression
(``%...%``) patterns raise ``UnsupportedFilterPattern``, so that a caller learns its filter was
not applied instead of silently getting every event.
"""

from __future__ import annotations

from dataclasses import dataclass


class FilterPatternError(ValueError):
    """A filter pattern that cannot be parsed."""


class UnsupportedFilterPattern(FilterPatternError):
    """A valid CloudWatch pattern of a kind opensage does not evaluate."""


@dataclass(frozen=True)
class FilterPattern:
    required: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    excluded: tuple[str, ...] = ()

    @property
    def matches_everything(self) -> bool:
        return not (self.required or self.any_of or self.excluded)

    def matches(self, message: str) -> bool:
        return (
            all(term in message for term in self.required)
            and (not self.any_of or any(term in message for term in self.any_of))
            and not any(term in message for term in self.excluded)
        )


def _read_quoted(text: str, start: int) -> tuple[str, int]:
    """The phrase of the quoted term opening at ``text[start]``, and the index after it."""
    chars: list[str] = []
    index = start + 1
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            chars.append(text[index + 1])
            index += 2
        elif char == '"':
            return "".join(chars), index + 1
        else:
            chars.append(char)
            index += 1
    raise FilterPatternError("Invalid filter pattern: a quoted term has no closing double quote")


def _read_bare(text: str, start: int) -> tuple[str, int]:
    end = start
    while end < len(text) and not text[end].isspace():
        end += 1
    term = text[start:end]
    if len(term) > 1 and term.startswith("%") and term.endswith("%"):
        raise UnsupportedFilterPattern(
            "Regular-expression filter patterns (%...%) are not supported by opensage; "
            "use terms, quoted phrases, ?any-of and -excluded terms"
        )
    return term, end


def _check_kind(text: str) -> None:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        kind = "JSON filter patterns ({ $.field ... })"
    elif stripped.startswith("["):
        kind = "Space-delimited filter patterns ([field, ...])"
    else:
        return
    raise UnsupportedFilterPattern(
        f"{kind} are not supported by opensage; use terms, quoted phrases, ?any-of and -excluded terms"
    )


def parse_filter_pattern(text: str | None) -> FilterPattern:
    """Parse a basic text pattern; raises ``FilterPatternError`` for anything else."""
    if not text:
        return FilterPattern()
    _check_kind(text)
    groups: dict[str, list[str]] = {"": [], "?": [], "-": []}
    index = 0
    while index < len(text):
        if text[index].isspace():
            index += 1
            continue
        marker = text[index] if text[index] in "?-" and index + 1 < len(text) else ""
        index += len(marker)
        if text[index].isspace():
            raise FilterPatternError(f"Invalid filter pattern: '{marker}' must be followed by a term")
        reader = _read_quoted if text[index] == '"' else _read_bare
        term, index = reader(text, index)
        groups[marker].append(term)
    return FilterPattern(tuple(groups[""]), tuple(groups["?"]), tuple(groups["-"]))
