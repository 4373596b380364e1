"""The JSONPath subset of batch transform's InputFilter and OutputFilter, parsed once and applied per record.

SageMaker documents these operators: ``$`` (the root, required first), ``.name`` and
``['name', ...]`` (children; several names keep an object with just those keys),
``[n, ...]`` (indexes, negative from the end), ``[start:end]`` (slices, either end
optional, combinable with indexes as in ``$[0,5:]``) and ``*`` (every child). A CSV row
is an array of its fields. Several names in brackets must be the last step, as SageMaker
allows no nesting after them. Selecting what is not there (a missing field, an index out
of range) is an error, as SageMaker reports one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from opensage.errors import AlgorithmClientError, ValidationError

# Up to 18 digits: any real index, and far below int()'s limit on digits.
_INDEX = re.compile(r"-?[0-9]{1,18}")
_SLICE = re.compile(r"(-?[0-9]{1,18})?\s*:\s*(-?[0-9]{1,18})?")
_NAME = re.compile(r"[^.\[\]\s'\"*]+")
_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


@dataclass(frozen=True)
class Child:
    name: str


@dataclass(frozen=True)
class Children:
    names: tuple[str, ...]


@dataclass(frozen=True)
class Index:
    index: int


@dataclass(frozen=True)
class Slice:
    start: int | None
    end: int | None


@dataclass(frozen=True)
class Elements:
    """Several indexes and slices, as in ``[0,5:]``: their elements, in the order written."""

    selectors: tuple[Index | Slice, ...]


@dataclass(frozen=True)
class Wildcard:
    pass


Step = Child | Children | Index | Slice | Elements | Wildcard


@dataclass(frozen=True)
class JsonPath:
    text: str
    steps: tuple[Step, ...]

    def is_root(self) -> bool:
        return not self.steps

    def select(self, value: Any) -> Any:
        """What the path selects in ``value``; AlgorithmClientError when it is not there."""
        current = [value]
        many = False
        for step in self.steps:
            selected: list[Any] = []
            for item in current:
                result, several = _apply(step, item, self.text)
                if several:
                    selected.extend(result)
                else:
                    selected.append(result)
                many = many or several
            current = selected
        return current if many else current[0]


ROOT = JsonPath("$", ())


def parse_json_path(text: str, what: str = "JSONPath") -> JsonPath:
    """Parse a filter; ValidationError naming ``what`` and the problem if it is not in the subset."""
    if not text.startswith("$"):
        raise _invalid(what, text, "it must start with $")
    steps: list[Step] = []
    at = 1
    while at < len(text):
        if steps and isinstance(steps[-1], Children):
            raise _invalid(what, text, "nothing may follow a bracket list of several names")
        step, at = _parse_step(text, at, what)
        steps.append(step)
    return JsonPath(text, tuple(steps))


def _parse_step(text: str, at: int, what: str) -> tuple[Step, int]:
    char = text[at]
    if char == "[":
        return _parse_brackets(text, at, what)
    if char != ".":
        raise _invalid(what, text, f"unexpected '{char}' at position {at + 1}")
    at += 1
    if text.startswith(".", at):
        raise _invalid(what, text, "recursive descent (..) is not supported")
    if text.startswith("[", at):
        return _parse_brackets(text, at, what)
    if text.startswith("*", at):
        return Wildcard(), at + 1
    match = _NAME.match(text, at)
    if match is None:
        raise _invalid(what, text, f"a field name must follow '.' at position {at}")
    return Child(match.group()), match.end()


def _parse_brackets(text: str, at: int, what: str) -> tuple[Step, int]:
    items: list[str] = []
    cursor = at + 1
    while True:
        cursor = _skip_spaces(text, cursor)
        quoted = _QUOTED.match(text, cursor)
        if quoted is not None:
            items.append(quoted.group())
            cursor = quoted.end()
        else:
            start = cursor
            while cursor < len(text) and text[cursor] not in ",]'\"":
                cursor += 1
            items.append(text[start:cursor].strip())
        cursor = _skip_spaces(text, cursor)
        if cursor >= len(text):
            raise _invalid(what, text, "a '[' is not closed")
        if text[cursor] == "]":
            return _bracket_step(items, text, what), cursor + 1
        if text[cursor] != ",":
            raise _invalid(what, text, f"unexpected '{text[cursor]}' at position {cursor + 1}")
        cursor += 1


def _skip_spaces(text: str, at: int) -> int:
    while at < len(text) and text[at] == " ":
        at += 1
    return at


def _bracket_step(items: list[str], text: str, what: str) -> Step:
    if items == ["*"]:
        return Wildcard()
    quoted = [_QUOTED.fullmatch(item) for item in items]
    if all(quoted):
        names = tuple(m.group(1) if m.group(1) is not None else m.group(2) for m in quoted if m)
        return Child(names[0]) if len(names) == 1 else Children(names)
    if any(quoted):
        raise _invalid(what, text, "a bracket holds either quoted names or indexes and slices, not both")
    selectors = tuple(_selector(item, text, what) for item in items)
    return selectors[0] if len(selectors) == 1 else Elements(selectors)


def _selector(item: str, text: str, what: str) -> Index | Slice:
    if _INDEX.fullmatch(item):
        return Index(int(item))
    match = _SLICE.fullmatch(item)
    if match is None:
        shown = item or "an empty entry"
        raise _invalid(what, text, f"{shown!s} is not an index, a slice (start:end) or a quoted name")
    start, end = match.groups()
    return Slice(None if start is None else int(start), None if end is None else int(end))


def _invalid(what: str, text: str, problem: str) -> ValidationError:
    return ValidationError(
        f"{what} '{text}' is not a supported JSONPath: {problem}. Supported: $, .name, ['name', ...], "
        "[n, ...], [start:end], * — e.g. $[1:], $.features, $['id','SageMakerOutput']"
    )


# --- selection -----------------------------------------------------------------------------


def _apply(step: Step, value: Any, text: str) -> tuple[Any, bool]:
    """The step's result on ``value`` and whether it is several values (to flatten)."""
    if isinstance(step, Child):
        return _field(value, step.name, text), False
    if isinstance(step, Children):
        return {name: _field(value, name, text) for name in step.names}, False
    if isinstance(step, Wildcard):
        if isinstance(value, dict):
            return list(value.values()), True
        return list(_array(value, "*", text)), True
    if isinstance(step, Elements):
        array = _array(value, "[...]", text)
        selected: list[Any] = []
        for selector in step.selectors:
            if isinstance(selector, Index):
                selected.append(_element(array, selector.index, text))
            else:
                selected.extend(array[selector.start : selector.end])
        return selected, True
    array = _array(value, "[...]", text)
    if isinstance(step, Index):
        return _element(array, step.index, text), False
    return array[step.start : step.end], True


def _field(value: Any, name: str, text: str) -> Any:
    if not isinstance(value, dict):
        raise AlgorithmClientError(f"{text} selects field '{name}' of {_kind(value)}, which has no fields")
    if name not in value:
        raise AlgorithmClientError(f"{text} selects field '{name}', which the record does not have")
    return value[name]


def _array(value: Any, step: str, text: str) -> list[Any]:
    if not isinstance(value, list):
        raise AlgorithmClientError(f"{text} selects {step} of {_kind(value)}, which is not an array")
    return value


def _element(array: list[Any], index: int, text: str) -> Any:
    if not -len(array) <= index < len(array):
        raise AlgorithmClientError(
            f"{text} selects index {index} of an array of {len(array)} element(s), which is out of range"
        )
    return array[index]


def _kind(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    return "a number" if isinstance(value, int | float) and not isinstance(value, bool) else "a value"
