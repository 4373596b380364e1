"""Which labels each XGBoost objective accepts, checked before XGBoost fails on them less clearly."""

from __future__ import annotations

from typing import TYPE_CHECKING

from opensage.algorithms.xgboost.data import LabelRule

if TYPE_CHECKING:
    import numpy as np

_UNIT_INTERVAL = ("binary:logistic", "binary:logitraw", "binary:hinge", "reg:logistic")
_NON_NEGATIVE = ("count:poisson", "reg:tweedie", "survival:aft", "rank:ndcg")


def label_rule(objective: str, num_class: int | None) -> LabelRule:
    """A check of one file's (finite) labels against ``objective``."""

    def check(labels: np.ndarray) -> tuple[int, str] | None:
        import numpy as np

        bad, expected = _bad_labels(labels, objective, num_class)
        if bad is None or not bad.any():
            return None
        return int(np.argmax(bad)), f"objective {objective} needs labels {expected}"

    return check


def _bad_labels(labels: np.ndarray, objective: str, num_class: int | None) -> tuple[np.ndarray | None, str]:
    """A mask of the labels ``objective`` rejects, and what it accepts."""
    import numpy as np

    if objective in _UNIT_INTERVAL:
        return (labels < 0) | (labels > 1), "in [0, 1]"
    if objective.startswith("multi:") and num_class is not None:
        bad = (labels < 0) | (labels >= num_class) | (labels != np.rint(labels))
        return bad, f"that are class indices 0 to {num_class - 1} (num_class={num_class})"
    if objective in _NON_NEGATIVE:
        return labels < 0, ">= 0"
    if objective == "reg:gamma":
        return labels <= 0, "> 0"
    if objective == "reg:squaredlogerror":
        return labels <= -1, "> -1"
    if objective == "rank:map":
        return (labels != 0) & (labels != 1), "of 0 or 1 (relevant or not)"
    return None, ""
