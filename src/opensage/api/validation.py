"""Validate JSON-protocol requests against botocore's service models, as AWS does server-side.

botocore checks only required members, minimums and types on the client; AWS checks
patterns, enums and maximums on the server and answers ``ValidationException`` with
messages like ``1 validation error detected: Value 'x!' at 'trainingJobName' failed to
satisfy constraint: Member must satisfy regular expression pattern: ...``. We do the same
from the same models, and convert wire values (epoch timestamps, base64 blobs) to Python.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, cast

from botocore.model import ListShape, MapShape, OperationModel, ServiceModel, Shape, StructureShape

from opensage.errors import ValidationError

# Values are shown in messages as AWS does, but cut short: a payload is never echoed whole.
_SHOWN_VALUE_LIMIT = 80


def _lower_camel(name: str) -> str:
    return name[:1].lower() + name[1:]


def _show(value: Any) -> str:
    text = str(value)
    return text if len(text) <= _SHOWN_VALUE_LIMIT else text[:_SHOWN_VALUE_LIMIT] + "..."


@functools.lru_cache(maxsize=2048)
def _compiled(pattern: str) -> re.Pattern[str] | None:
    # The models' patterns are Java regexes; the rare one Python cannot compile is not checked.
    try:
        return re.compile(pattern, re.DOTALL)
    except re.error:
        return None


class _Checker:
    """Walks one request against one input shape, collecting every violation like AWS does."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, value: Any, path: str, constraint: str) -> None:
        shown = "null" if value is None else f"'{_show(value)}'"
        self.problems.append(f"Value {shown} at '{path}' failed to satisfy constraint: {constraint}")

    def check(self, shape: Shape, value: Any, path: str) -> Any:
        handler: Callable[[Shape, Any, str], Any] = getattr(
            self, f"_check_{shape.type_name}", self._check_other
        )
        return handler(shape, value, path)

    def _check_structure(self, shape: Shape, value: Any, path: str) -> Any:
        shape = cast(StructureShape, shape)
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a structure")
            return value
        result: dict[str, Any] = {}
        for name in shape.required_members:
            if value.get(name) is None:
                self.fail(None, self._join(path, name), "Member must not be null")
        for name, member_value in value.items():
            member = shape.members.get(name)
            if member is None or member_value is None:
                # Unknown members are ignored, as AWS does, so newer clients keep working.
                continue
            result[name] = self.check(member, member_value, self._join(path, name))
        return result

    def _check_list(self, shape: Shape, value: Any, path: str) -> Any:
        shape = cast(ListShape, shape)
        if not isinstance(value, list):
            self.fail(value, path, "Member must be a list")
            return value
        self._check_size(shape, len(value), value, path)
        return [self.check(shape.member, item, f"{path}.{i + 1}.member") for i, item in enumerate(value)]

    def _check_map(self, shape: Shape, value: Any, path: str) -> Any:
        shape = cast(MapShape, shape)
        if not isinstance(value, dict):
            self.fail(value, path, "Member must be a map")
            return value
        self._check_size(shape, len(value), value, path)
        return {
            self.check(shape.key, key, f"{path}.{i + 1}.key"): self.check(
                shape.value, item, f"{path}.{i + 1}.value"
            )
            for i, (key, item) in enumerate(value.items())
        }

    def _check_string(self, shape: Shape, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            self.fail(value, path, "Member must be a string")
            return value
        enum = shape.enum
        if enum and value not in enum:
            self.fail(value, path, f"Member must satisfy enum value set: [{', '.join(enum)}]")
        self._check_size(shape, len(value), value, path)
        pattern = shape.metadata.get("pattern")
        if pattern:
            compiled = _compiled(pattern)
            if compiled is not None and not compiled.fullmatch(value):
                self.fail(value, path, f"Member must satisfy regular expression pattern: {pattern}")
        return value

    def _check_integer(self, shape: Shape, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(value, path, "Member must be an integer")
            return value
        self._check_range(shape, value, path)
        return value

    _check_long = _check_integer

    def _check_float(self, shape: Shape, value: Any, path: str) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(value, path, "Member must be a number")
            return value
        self._check_range(shape, value, path)
        return float(value)

    _check_double = _check_float

    def _check_boolean(self, shape: Shape, value: Any, path: str) -> Any:
        if not isinstance(value, bool):
            self.fail(value, path, "Member must be a boolean")
        return value

    def _check_timestamp(self, shape: Shape, value: Any, path: str) -> Any:
        if isinstance(value, bool):
            self.fail(value, path, "Member must be a timestamp")
            return value
        if isinstance(value, int | float):
            try:
                return datetime.fromtimestamp(value, tz=UTC)
            except (OverflowError, OSError, ValueError):
                self.fail(value, path, "Member must be a timestamp in range")
                return value
        if isinstance(value, str):
            try:
                parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                self.fail(value, path, "Member must be a timestamp")
                return value
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        self.fail(value, path, "Member must be a timestamp")
        return value

    def _check_blob(self, shape: Shape, value: Any, path: str) -> Any:
        if not isinstance(value, str):
            self.fail(value, path, "Member must be base64-encoded binary data")
            return value
        try:
            decoded = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            self.fail("<binary>", path, "Member must be base64-encoded binary data")
            return value
        self._check_size(shape, len(decoded), "<binary>", path)
        return decoded

    def _check_other(self, shape: Shape, value: Any, path: str) -> Any:
        return value

    def _check_size(self, shape: Shape, size: int, value: Any, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and size < low:
            self.fail(value, path, f"Member must have length greater than or equal to {low}")
        if high is not None and size > high:
            self.fail(value, path, f"Member must have length less than or equal to {high}")

    def _check_range(self, shape: Shape, value: float, path: str) -> None:
        low, high = shape.metadata.get("min"), shape.metadata.get("max")
        if low is not None and value < low:
            self.fail(value, path, f"Member must have value greater than or equal to {low}")
        if high is not None and value > high:
            self.fail(value, path, f"Member must have value less than or equal to {high}")

    @staticmethod
    def _join(path: str, name: str) -> str:
        return f"{path}.{_lower_camel(name)}" if path else _lower_camel(name)


class RequestValidator:
    """Checks requests for the operations of one botocore service model."""

    def __init__(self, model: ServiceModel) -> None:
        self.model = model

    @property
    def operation_names(self) -> list[str]:
        return list(self.model.operation_names)

    def operation(self, name: str) -> OperationModel | None:
        return self.model.operation_model(name) if name in self.model.operation_names else None

    def validate(self, operation: str, params: Any) -> dict[str, Any]:
        """Return ``params`` with wire values converted, or raise ValidationError listing every problem."""
        op = self.operation(operation)
        if op is None:
            raise ValidationError(f"{operation} is not an operation of {self.model.service_name}")
        if not isinstance(params, dict):
            raise ValidationError("The request body must be a JSON object")
        shape = op.input_shape
        if shape is None:
            return {}
        checker = _Checker()
        result = checker.check(shape, params, "")
        if checker.problems:
            count = len(checker.problems)
            noun = "error" if count == 1 else "errors"
            raise ValidationError(f"{count} validation {noun} detected: " + "; ".join(checker.problems))
        return dict(result)


@functools.lru_cache(maxsize=8)
def validator_for(service_name: str) -> RequestValidator:
    """The validator of a botocore service (``sagemaker``, ``logs``, ...); models load once, on first use."""
    import botocore.session

    return RequestValidator(botocore.session.get_session().get_service_model(service_name))
