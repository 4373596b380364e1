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
    # None while the algorithm is not written yet: its image is recognised, and refused.
    module: str | None
    attribute: str
    # ECR repositories whose images are this algorithm, with a regex their tag must match.
    repositories: tuple[tuple[str, str], ...]


# The aialgs family's images are tagged 1 (or latest); e.g. 382416733822.dkr.ecr.us-east-1.amazonaws.com/kmeans:1.
_AIALGS_TAG = r"1|latest"


def _aialgs(name: str, module: str | None, attribute: str, repository: str | None = None) -> _Entry:
    return _Entry(name, module, attribute, ((repository or name, _AIALGS_TAG),))


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
        # Issue 6: each entry gets its module when the algorithm is written.
        _aialgs("linear-learner", "opensage.algorithms.linear_learner", "LinearLearnerAlgorithm"),
        _aialgs("kmeans", "opensage.algorithms.kmeans", "KMeansAlgorithm"),
        _aialgs("knn", "opensage.algorithms.knn", "KNNAlgorithm"),
        _aialgs("pca", "opensage.algorithms.pca", "PCAAlgorithm"),
        _aialgs("randomcutforest", "opensage.algorithms.rcf", "RandomCutForestAlgorithm"),
        _aialgs(
            "factorization-machines",
            "opensage.algorithms.factorization_machines",
            "FactorizationMachinesAlgorithm",
        ),
    )


def algorithm_names() -> list[str]:
    """The names of every built-in algorithm opensage trains, sorted."""
    return sorted(entry.name for entry in _entries() if entry.module is not None)


def planned_algorithm_names() -> list[str]:
    """Built-in algorithms whose images are recognised but which opensage does not run yet, sorted."""
    return sorted(entry.name for entry in _entries() if entry.module is None)


def _match_image(image: str) -> _Entry | None:
    parsed = parse_ecr_image(image)
    if parsed is None:
        return None
    repository, tag = parsed.repository, parsed.tag
    for entry in _entries():
        for known, tag_pattern in entry.repositories:
            # Without a tag (a bare name or a digest) the repository alone decides.
            if repository == known and (tag is None or re.fullmatch(tag_pattern, tag)):
                return entry
    return None


def resolve_training_image(image: str) -> str | None:
    """The built-in algorithm a TrainingImage URI selects (any region, tag or digest), else None.

    None too for an algorithm that is recognised but not implemented (see ``planned_image``).
    """
    entry = _match_image(image)
    return entry.name if entry is not None and entry.module is not None else None


def planned_image(image: str) -> str | None:
    """The built-in algorithm an image names when opensage recognises it but does not run it yet."""
    entry = _match_image(image)
    return entry.name if entry is not None and entry.module is None else None


def not_implemented_message(name: str) -> str:
    """Why a job or model naming a recognised but unimplemented algorithm is refused."""
    return (
        f"The built-in algorithm {name} is recognised but not implemented by opensage yet; "
        f"the built-in algorithms it runs today are: {', '.join(algorithm_names())}"
    )


def load_algorithm(name: str) -> BuiltinAlgorithm:
    """An instance of the named algorithm; importing its module loads no ML library yet."""
    for entry in _entries():
        if entry.name == name and entry.module is not None:
            module = importlib.import_module(entry.module)
            algorithm: BuiltinAlgorithm = getattr(module, entry.attribute)()
            return algorithm
    raise ValueError(f"unknown built-in algorithm {name!r}; known: {', '.join(algorithm_names())}")
