"""Which built-in algorithms exist, how a TrainingImage URI selects one, and loading them lazily."""

from __future__ import annotations

import importlib
import re
from dataclasses import dataclass

from opensage.algorithms.base import BuiltinAlgorithm
from opensage.images import parse_ecr_image


@dataclass(frozen=True)
class _Entry:
    name: str
    module: str
    attribute: str
    # ECR repositories whose images are this algorithm, with a regex their tag must match.
    repositories: tuple[tuple[str, str], ...]


def _entries() -> tuple[_Entry, ...]:
    return (
        _Entry(
            name="xgboost",
            module="opensage.algorithms.xgboost",
            attribute="XGBoostAlgorithm",
            repositories=(
                # sagemaker-xgboost:<xgboost version>-<build>[-cpu-py3], e.g. 1.7-1, 0.90-2-cpu-py3, 3.0-5
                ("sagemaker-xgboost", r"\d+\.\d+(?:\.\d+)?-\d+(?:-[a-z0-9.-]+)?"),
                # the legacy algorithm image: xgboost:1 (or :latest)
                ("xgboost", r"1|latest"),
            ),
        ),
    )


def algorithm_names() -> list[str]:
    """The names of every built-in algorithm opensage trains, sorted."""
    return sorted(entry.name for entry in _entries())


def resolve_training_image(image: str) -> str | None:
    """The built-in algorithm a TrainingImage URI selects (any region, tag or digest), else None."""
    parsed = parse_ecr_image(image)
    if parsed is None:
        return None
    repository, tag = parsed.repository, parsed.tag
    for entry in _entries():
        for known, tag_pattern in entry.repositories:
            # Without a tag (a bare name or a digest) the repository alone decides.
            if repository == known and (tag is None or re.fullmatch(tag_pattern, tag)):
                return entry.name
    return None


def load_algorithm(name: str) -> BuiltinAlgorithm:
    """An instance of the named algorithm; importing its module loads no ML library yet."""
    for entry in _entries():
        if entry.name == name:
            module = importlib.import_module(entry.module)
            algorithm: BuiltinAlgorithm = getattr(module, entry.attribute)()
            return algorithm
    raise ValueError(f"unknown built-in algorithm {name!r}; known: {', '.join(algorithm_names())}")
