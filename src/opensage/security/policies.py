"""IAM-style identity policies: parsing with IAM's own rules, and evaluation as IAM does it.

A policy is ``{"Version": "2012-10-17", "Statement": [...]}`` (or one statement object);
each statement has ``Effect`` (Allow|Deny), ``Action`` or ``NotAction``, ``Resource`` or
``NotResource`` (a string or a list), and an optional ``Sid``. Evaluation for a request
(action, resource): an explicit Deny in any policy wins; otherwise an Allow grants;
otherwise the request is implicitly denied. Actions match case-insensitively, resources
case-sensitively, both with ``*`` (any run of characters) and ``?`` (one character).

``Condition`` blocks are refused rather than ignored: a Deny whose condition was skipped
would deny too much, an Allow would grant too much, and neither is what its author wrote.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from opensage.errors import MalformedPolicyDocumentError

VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_KEYS = frozenset({"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"})
_ACTION = re.compile(r"^(\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+)$")
# IAM's own limit for a managed policy document (whitespace excluded there; we count all of it).
MAX_POLICY_CHARS = 6144 * 4


class Effect(StrEnum):
    ALLOW = "Allow"
    DENY = "Deny"


class Decision(StrEnum):
    ALLOW = "Allow"
    EXPLICIT_DENY = "ExplicitDeny"
    IMPLICIT_DENY = "ImplicitDeny"


def _pattern(glob: str, case_sensitive: bool) -> re.Pattern[str]:
    """An IAM wildcard (``*``, ``?``) as an anchored regular expression."""
    parts = (".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile("".join(parts), re.DOTALL if case_sensitive else re.DOTALL | re.IGNORECASE)


@dataclass(frozen=True)
class Matcher:
    """A list of wildcard patterns, possibly negated (NotAction / NotResource)."""

    patterns: tuple[re.Pattern[str], ...]
    negated: bool

    def matches(self, value: str) -> bool:
        hit = any(pattern.fullmatch(value) for pattern in self.patterns)
        return hit != self.negated


@dataclass(frozen=True)
class Statement:
    sid: str | None
    effect: Effect
    actions: Matcher
    resources: Matcher

    def applies(self, action: str, resource: str) -> bool:
        return self.actions.matches(action) and self.resources.matches(resource)


@dataclass(frozen=True)
class Policy:
    """A parsed, validated policy: its statements compiled, and the document as written."""

    name: str
    document: dict[str, Any]
    statements: tuple[Statement, ...]


def parse_policy(name: str, source: str | dict[str, Any]) -> Policy:
    """Validate ``source`` (JSON text or a parsed document) as IAM does; MalformedPolicyDocument if not."""
    document = _load(source)
    version = document.get("Version")
    if version is not None and version not in VERSIONS:
        raise _malformed(f"The policy Version must be one of {', '.join(VERSIONS)}, not {version!r}.")
    unknown = sorted(set(document) - {"Version", "Id", "Statement"})
    if unknown:
        raise _malformed(f"Unknown policy element {unknown[0]!r}; a policy has Version, Id and Statement.")
    raw = document.get("Statement")
    if raw is None:
        raise _malformed("The policy has no Statement.")
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise _malformed("The policy's Statement list is empty.")
    statements = tuple(_statement(item, index) for index, item in enumerate(items, start=1))
    return Policy(name=name, document=document, statements=statements)


def evaluate(policies: Iterable[Policy], action: str, resource: str) -> Decision:
    """IAM's identity-policy logic: an explicit Deny wins, then any Allow, else an implicit deny."""
    allowed = False
    for policy in policies:
        for statement in policy.statements:
            if statement.applies(action, resource):
                if statement.effect is Effect.DENY:
                    return Decision.EXPLICIT_DENY
                allowed = True
    return Decision.ALLOW if allowed else Decision.IMPLICIT_DENY


def _load(source: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(source, str):
        if len(source) > MAX_POLICY_CHARS:
            raise _malformed(f"The policy is longer than {MAX_POLICY_CHARS} characters.")
        try:
            source = json.loads(source)
        except json.JSONDecodeError as exc:
            raise _malformed(f"The policy is not valid JSON: {exc.msg} at line {exc.lineno}.") from exc
    if not isinstance(source, dict):
        raise _malformed("A policy must be a JSON object with a Statement.")
    return source


def _statement(item: Any, index: int) -> Statement:
    where = f"Statement {index}"
    if not isinstance(item, dict):
        raise _malformed(f"{where} must be a JSON object.")
    unknown = sorted(set(item) - _STATEMENT_KEYS)
    if unknown:
        raise _malformed(f"{where} has an unknown element {unknown[0]!r}.")
    sid = item.get("Sid")
    if sid is not None and (not isinstance(sid, str) or not re.fullmatch(r"[A-Za-z0-9]*", sid)):
        raise _malformed(f"{where}: Sid must be letters and digits only.")
    where = f"Statement {sid!r}" if sid else where
    if "Condition" in item:
        raise _malformed(
            f"{where} has a Condition; opensage does not evaluate policy conditions yet. "
            "Express the limit with Resource ARNs (for S3, arn:aws:s3:::bucket/prefix/*) instead."
        )
    effect = item.get("Effect")
    if effect not in (Effect.ALLOW.value, Effect.DENY.value):
        raise _malformed(f"{where}: Effect must be Allow or Deny, not {effect!r}.")
    actions = _matcher(item, "Action", "NotAction", where, case_sensitive=False)
    resources = _matcher(item, "Resource", "NotResource", where, case_sensitive=True)
    return Statement(sid=sid, effect=Effect(effect), actions=actions, resources=resources)


def _matcher(item: dict[str, Any], plain: str, negated: str, where: str, case_sensitive: bool) -> Matcher:
    if (plain in item) == (negated in item):
        raise _malformed(f"{where} must have exactly one of {plain} and {negated}.")
    key = plain if plain in item else negated
    values = _strings(item[key], f"{where}: {key}")
    if key.endswith("Action"):
        for value in values:
            if not _ACTION.fullmatch(value):
                raise _malformed(
                    f"{where}: {key} {value!r} is not an action; actions look like "
                    "service:Operation, e.g. sagemaker:Create* or s3:GetObject."
                )
    elif any(not (value == "*" or value.startswith("arn:")) for value in values):
        raise _malformed(f'{where}: every {key} must be "*" or an ARN (arn:aws:...).')
    return Matcher(tuple(_pattern(value, case_sensitive) for value in values), negated=key == negated)


def _strings(value: Any, where: str) -> Sequence[str]:
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(entry, str) and entry for entry in values):
        raise _malformed(f"{where} must be a non-empty string or a list of them.")
    return values


def _malformed(message: str) -> MalformedPolicyDocumentError:
    return MalformedPolicyDocumentError(message)
