"""Small helpers shared by the SageMaker wire adapters."""

from __future__ import annotations

from typing import Any


def without_none(values: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in values.items() if value is not None}


def tag_map(params: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in params.get("Tags", [])}
