"""Declarative hyperparameter specs shared by the built-in algorithms: strings in, typed values out.

A ``HyperparameterSpec`` lists ``Hyperparameter`` declarations (a name, a ``Kind`` that parses
the string, default, required, aliases, whether the documented ``auto`` is accepted) and
``Dependency`` rules between them. ``validate`` coerces a job's string hyperparameters once
and raises ``AlgorithmClientError`` listing every problem, each naming the parameter and what
would be valid::

    spec = HyperparameterSpec((
        Hyperparameter("num_round", Integer(Range(low=1)), required=True),
        Hyperparameter("eta", Continuous(Range(0, 1)), default=0.3, aliases=("learning_rate",)),
    ))
    spec.validate({"num_round": "10", "learning_rate": "0.1"})  # {"num_round": 10, "eta": 0.1}

Keys in ``passthrough`` (the tuning job's ``_tuning_objective_metric``) are kept as strings.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from opensage.errors import AlgorithmClientError

TUNING_OBJECTIVE_METRIC = "_tuning_objective_metric"
AUTO = "auto"


class InvalidValue(ValueError):
    """Why a string is not a valid value of a kind; the spec adds the parameter's name."""


# --- ranges -----------------------------------------------------------------------------------


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else repr(value)


@dataclass(frozen=True)
class Range:
    """An interval of numbers; a missing bound is unbounded, an open bound excludes its value."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def __contains__(self, value: float) -> bool:
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return False
        return not (self.high is not None and (value > self.high or (self.high_open and value == self.high)))

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            left, right = "(" if self.low_open else "[", ")" if self.high_open else "]"
            return f"in {left}{_number(self.low)}, {_number(self.high)}{right}"
        if self.low is not None:
            return f"{'>' if self.low_open else '>='} {_number(self.low)}"
        if self.high is not None:
            return f"{'<' if self.high_open else '<='} {_number(self.high)}"
        return "any number"

    def check(self, value: float, text: str) -> None:
        if value not in self:
            raise InvalidValue(f"must be {self}, got {text}")


# --- kinds ------------------------------------------------------------------------------------


class Kind(ABC):
    """How one hyperparameter's string is parsed and checked."""

    @abstractmethod
    def parse(self, text: str) -> Any:
        """The typed value of ``text`` (already stripped); raise ``InvalidValue`` saying why not."""

    @abstractmethod
    def describe(self) -> str:
        """What valid values look like, for messages and documentation."""


@dataclass(frozen=True)
class Integer(Kind):
    """An integer; ``5.0`` and ``1e3`` are accepted as the integers they spell."""

    range: Range = field(default_factory=Range)

    def parse(self, text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = self._integral_float(text)
        self.range.check(value, text)
        return value

    @staticmethod
    def _integral_float(text: str) -> int:
        try:
            number = float(text)
        except ValueError:
            number = math.nan
        if not number.is_integer():
            raise InvalidValue(f"value {text!r} is not an integer")
        return int(number)

    def describe(self) -> str:
        return "an integer" + ("" if self.range == Range() else f" {self.range}")


@dataclass(frozen=True)
class Continuous(Kind):
    """A finite floating-point number."""

    range: Range = field(default_factory=Range)

    def parse(self, text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise InvalidValue(f"value {text!r} is not a number") from None
        if not math.isfinite(value):
            raise InvalidValue(f"value {text!r} is not a finite number")
        self.range.check(value, text)
        return value

    def describe(self) -> str:
        return "a number" + ("" if self.range == Range() else f" {self.range}")


@dataclass(frozen=True)
class Categorical(Kind):
    """One of a fixed set of strings, matched exactly (case included)."""

    choices: tuple[str, ...]

    def parse(self, text: str) -> str:
        if text not in self.choices:
            raise InvalidValue(f"value {text!r} is not one of: {', '.join(self.choices)}")
        return text

    def describe(self) -> str:
        return "one of " + ", ".join(self.choices)


@dataclass(frozen=True)
class Boolean(Kind):
    """A boolean in the spellings an algorithm documents (by default any of true/True/1, false/False/0)."""

    true_values: tuple[str, ...] = ("true", "True", "1")
    false_values: tuple[str, ...] = ("false", "False", "0")

    def parse(self, text: str) -> bool:
        if text in self.true_values:
            return True
        if text in self.false_values:
            return False
        raise InvalidValue(
            f"value {text!r} is not a boolean; use {self.true_values[0]} or {self.false_values[0]}"
        )

    def describe(self) -> str:
        return f"a boolean ({'/'.join(self.true_values + self.false_values)})"


@dataclass(frozen=True)
class String(Kind):
    """Any non-empty string, or one matching ``pattern`` (a full match) when given."""

    pattern: str | None = None
    pattern_description: str = ""

    def parse(self, text: str) -> str:
        if not text:
            raise InvalidValue("value is empty")
        if self.pattern is not None and re.fullmatch(self.pattern, text) is None:
            raise InvalidValue(f"value {text!r} is not {self.describe()}")
        return text

    def describe(self) -> str:
        return self.pattern_description or (
            "a string" if self.pattern is None else f"a string matching {self.pattern}"
        )


@dataclass(frozen=True)
class ListOf(Kind):
    """Items of another kind separated by commas, optionally wrapped in ``(...)`` or ``[...]``."""

    item: Kind
    separator: str = ","
    min_items: int = 1

    def parse(self, text: str) -> list[Any]:
        inner = text[1:-1].strip() if text[:1] + text[-1:] in ("()", "[]") else text
        items = [part.strip() for part in inner.split(self.separator)] if inner else []
        if len(items) < self.min_items:
            raise InvalidValue(f"needs at least {self.min_items} item(s), got {text!r}")
        if "" in items:
            raise InvalidValue(f"value {text!r} has an empty item")
        parsed = []
        for item in items:
            try:
                parsed.append(self.item.parse(item))
            except InvalidValue as exc:
                raise InvalidValue(f"in {text!r}: {exc}") from None
        return parsed

    def describe(self) -> str:
        return f"a '{self.separator}'-separated list of {self.item.describe()}"


@dataclass(frozen=True)
class ChoiceList(Kind):
    """A list of names from ``choices``, as JSON (``["msd", "ssd"]``, what the SDK sends) or bare (``[msd,ssd]``)."""

    choices: tuple[str, ...]

    def parse(self, text: str) -> list[str]:
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            inner = text[1:-1] if text[:1] + text[-1:] == "[]" else text
            value = [item.strip().strip("'\"") for item in inner.split(",")]
        if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
            raise InvalidValue(f"value {text!r} is not {self.describe()}")
        for item in value:
            if item not in self.choices:
                raise InvalidValue(
                    f"value {text!r} holds {item!r}, which is not one of: {', '.join(self.choices)}"
                )
        return value

    def describe(self) -> str:
        return "a list drawn from " + ", ".join(self.choices) + ' such as ["' + self.choices[0] + '"]'


@dataclass(frozen=True)
class NestedIntegerLists(Kind):
    """A JSON list of lists of integers, such as ``[[0, 1], [2, 3, 4]]``."""

    range: Range = field(default_factory=Range)

    def parse(self, text: str) -> list[list[int]]:
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = None
        if not isinstance(value, list) or not all(isinstance(group, list) for group in value):
            raise InvalidValue(f"value {text!r} is not {self.describe()}")
        for number in (number for group in value for number in group):
            if not isinstance(number, int) or isinstance(number, bool):
                raise InvalidValue(f"value {text!r} holds {number!r}, which is not an integer")
            self.range.check(number, str(number))
        return value

    def describe(self) -> str:
        return "a list of lists of integers such as [[0, 1], [2, 3]]"


# --- declarations and rules -------------------------------------------------------------------


@dataclass(frozen=True)
class Hyperparameter:
    """One documented hyperparameter. ``default`` is the typed value used when it is not given."""

    name: str
    kind: Kind
    required: bool = False
    default: Any = None
    aliases: tuple[str, ...] = ()
    # Whether the algorithm documents the special value "auto" for it (kept as the string "auto").
    allow_auto: bool = False

    def coerce(self, text: str) -> Any:
        stripped = text.strip()
        if self.allow_auto and stripped == AUTO:
            return AUTO
        return self.kind.parse(stripped)

    def describe(self) -> str:
        return self.kind.describe() + (" or auto" if self.allow_auto else "")


class Dependency(ABC):
    """A rule across hyperparameters, checked once every value has been coerced."""

    @abstractmethod
    def check(self, values: Mapping[str, Any], given: frozenset[str]) -> str | None:
        """A message for what is wrong, or None. ``values`` holds defaults too; ``given`` what the job set."""


@dataclass(frozen=True)
class RequiredWhen(Dependency):
    """``name`` must be given when ``condition`` has one of ``values`` (its default counts)."""

    name: str
    condition: str
    values: tuple[Any, ...]

    def check(self, values: Mapping[str, Any], given: frozenset[str]) -> str | None:
        if values.get(self.condition) in self.values and self.name not in given:
            spelled = " or ".join(str(value) for value in self.values)
            return (
                f"missing required hyperparameter '{self.name}': required when {self.condition} is {spelled}"
            )
        return None


@dataclass(frozen=True)
class Constraint(Dependency):
    """Any other rule: ``rule(values, given)`` returns a message when the values break it."""

    rule: Callable[[Mapping[str, Any], frozenset[str]], str | None]

    def check(self, values: Mapping[str, Any], given: frozenset[str]) -> str | None:
        return self.rule(values, given)


# --- the spec ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class HyperparameterSpec:
    """Every hyperparameter an algorithm accepts, and the rules between them."""

    parameters: tuple[Hyperparameter, ...]
    dependencies: tuple[Dependency, ...] = ()
    passthrough: frozenset[str] = frozenset({TUNING_OBJECTIVE_METRIC})

    def __post_init__(self) -> None:
        spellings = [self._spellings_of(parameter) for parameter in self.parameters]
        flat = [spelling for group in spellings for spelling in group] + list(self.passthrough)
        duplicates = {spelling for spelling in flat if flat.count(spelling) > 1}
        if duplicates:
            raise ValueError(f"hyperparameter names declared twice: {sorted(duplicates)}")

    @staticmethod
    def _spellings_of(parameter: Hyperparameter) -> tuple[str, ...]:
        return (parameter.name, *parameter.aliases)

    @cached_property
    def _by_spelling(self) -> dict[str, Hyperparameter]:
        return {spelling: p for p in self.parameters for spelling in self._spellings_of(p)}

    def names(self) -> list[str]:
        """Canonical names, in declaration order."""
        return [parameter.name for parameter in self.parameters]

    def parameter(self, name: str) -> Hyperparameter:
        """The declaration for a canonical name or an alias; KeyError when unknown."""
        return self._by_spelling[name]

    def canonical_name(self, key: str) -> str | None:
        """The canonical name behind ``key`` (itself, or the name it is an alias of); None if unknown."""
        parameter = self._by_spelling.get(key)
        return None if parameter is None else parameter.name

    def given(self, raw: Mapping[str, object]) -> frozenset[str]:
        """The canonical names of the hyperparameters set in ``raw`` (passthrough keys left out)."""
        return frozenset(name for key in raw if (name := self.canonical_name(key)) is not None)

    def validate(self, raw: Mapping[str, object]) -> dict[str, Any]:
        """Coerce ``raw`` (strings, as in CreateTrainingJob) into typed values, defaults filled in.

        Raises ``AlgorithmClientError`` naming each unknown, invalid, duplicated or missing
        hyperparameter and each broken rule, with what would be valid.
        """
        values: dict[str, Any] = {}
        errors: list[str] = []
        spelled_as: dict[str, str] = {}
        for key, raw_value in raw.items():
            if key in self.passthrough:
                values[key] = str(raw_value)
                continue
            error = self._coerce_one(key, raw_value, values, spelled_as)
            if error:
                errors.append(error)
        for parameter in self.parameters:
            if parameter.required and parameter.name not in spelled_as:
                errors.append(f"missing required hyperparameter '{parameter.name}'")
            elif parameter.name not in spelled_as and parameter.default is not None:
                values[parameter.name] = parameter.default
        if not errors:
            given = frozenset(spelled_as)
            errors = [msg for rule in self.dependencies if (msg := rule.check(values, given)) is not None]
        if errors:
            raise AlgorithmClientError("; ".join(errors))
        return values

    def _coerce_one(
        self, key: str, raw_value: object, values: dict[str, Any], spelled_as: dict[str, str]
    ) -> str:
        """Coerce one given value into ``values``; return an error message, or "" when it is valid."""
        parameter = self._by_spelling.get(key)
        if parameter is None:
            return self._unknown(key)
        if parameter.name in spelled_as:
            first = spelled_as[parameter.name]
            return f"hyperparameter '{parameter.name}' given twice, as '{first}' and '{key}'"
        spelled_as[parameter.name] = key
        text = _as_text(raw_value)
        try:
            values[parameter.name] = parameter.coerce(text)
        except InvalidValue as exc:
            return f"Hyperparameter '{key}': {exc}"
        return ""

    def _unknown(self, key: str) -> str:
        close = difflib.get_close_matches(key, list(self._by_spelling), n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown hyperparameter '{key}'{hint}"


def _as_text(value: object) -> str:
    """Hyperparameters arrive as strings; a caller handing over JSON numbers or booleans gets them spelled."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)
