"""What a prediction response holds: the raw predictions, or the keys SAGEMAKER_INFERENCE_OUTPUT selects.

The keys each objective offers and their values follow SageMaker's XGBoost 1.7-1 container:

- ``predicted_label``: p > 0.5 (binary:logistic), margin > 0 (binary:logitraw), the arg max
  (multi:softprob), the prediction itself (binary:hinge, multi:softmax, written as a float);
- ``labels``: ``[0, 1]`` or ``[0, ..., num_class - 1]``;
- ``probability``: p (binary:logistic) or the largest class probability (multi:softprob);
- ``probabilities``: ``[1 - p, p]`` or every class probability;
- ``raw_score`` / ``raw_scores``: the prediction and ``[1 - x, x]`` for the binary objectives,
  the largest probability and every probability for multi:softprob;
- ``predicted_score``: the prediction, for every other objective.

One deliberate difference: for multi:softmax the container's raw scores are ``[1 - k, k]`` of the
class index ``k``, which mean nothing; here they are the per-class margins (``raw_scores``) and
the winning class's margin (``raw_score``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from opensage.formats.responses import OutputField

PREDICTED_LABEL = "predicted_label"
LABELS = "labels"
PROBABILITY = "probability"
PROBABILITIES = "probabilities"
RAW_SCORE = "raw_score"
RAW_SCORES = "raw_scores"
PREDICTED_SCORE = "predicted_score"
DEFAULT_FIELD = "score"

_LABEL_KEYS = (PREDICTED_LABEL, LABELS, RAW_SCORE, RAW_SCORES)
_PROBABILITY_KEYS = (PREDICTED_LABEL, LABELS, PROBABILITY, PROBABILITIES, RAW_SCORE, RAW_SCORES)
KEYS_BY_OBJECTIVE: Mapping[str, tuple[str, ...]] = {
    "binary:logistic": _PROBABILITY_KEYS,
    "binary:logitraw": _LABEL_KEYS,
    "binary:hinge": _LABEL_KEYS,
    "multi:softmax": _LABEL_KEYS,
    "multi:softprob": _PROBABILITY_KEYS,
}
REGRESSION_KEYS = (PREDICTED_SCORE,)


class OutputKeyError(ValueError):
    """SAGEMAKER_INFERENCE_OUTPUT names a key the model's objective does not offer."""


@dataclass(frozen=True)
class Predictions:
    """What the model gave for a batch: ``values`` as ``Booster.predict`` returns them.

    ``margins`` computes the untransformed per-class scores, only when an output needs them.
    """

    values: np.ndarray
    margins: Callable[[], np.ndarray]


def allowed_keys(objective: str) -> tuple[str, ...]:
    return KEYS_BY_OBJECTIVE.get(objective, REGRESSION_KEYS)


def parse_output_keys(setting: str, objective: str) -> tuple[str, ...]:
    """The keys of a ``SAGEMAKER_INFERENCE_OUTPUT`` value, in order, each once (case and spaces ignored)."""
    keys = tuple(dict.fromkeys(key.strip().lower() for key in setting.split(",")))
    allowed = allowed_keys(objective)
    unknown = [key for key in keys if key not in allowed]
    if unknown:
        shown = ", ".join(repr(key) for key in unknown)
        raise OutputKeyError(
            f"SAGEMAKER_INFERENCE_OUTPUT asks for {shown}, which a model with objective {objective} "
            f"does not give; choose from {', '.join(allowed)}"
        )
    return keys


def default_fields(predictions: Predictions) -> list[OutputField]:
    from opensage.formats.responses import OutputField

    return [OutputField(DEFAULT_FIELD, predictions.values)]


def selected_fields(
    keys: tuple[str, ...], objective: str, num_class: int, predictions: Predictions
) -> list[OutputField]:
    """One output field per selected key, computed for every row at once."""
    from opensage.formats.responses import OutputField

    compute = _Outputs(objective, num_class, predictions)
    return [OutputField(key, compute.field(key)) for key in keys]


class _Outputs:
    """The value of each key for every row of one batch."""

    def __init__(self, objective: str, num_class: int, predictions: Predictions) -> None:
        self.objective = objective
        self.num_class = num_class
        self.values = predictions.values
        self.margins = predictions.margins

    def field(self, key: str) -> np.ndarray:
        handlers: dict[str, Callable[[], np.ndarray]] = {
            PREDICTED_LABEL: self.predicted_label,
            LABELS: self.labels,
            PROBABILITY: self.probability,
            PROBABILITIES: self.probabilities,
            RAW_SCORE: self.raw_score,
            RAW_SCORES: self.raw_scores,
            PREDICTED_SCORE: lambda: self.values,
        }
        return handlers[key]()

    def predicted_label(self) -> np.ndarray:
        import numpy as np

        if self.objective == "binary:logistic":
            return (self.values > 0.5).astype(np.int64)
        if self.objective == "binary:logitraw":
            return (self.values > 0).astype(np.int64)
        if self.objective == "multi:softprob":
            winners: np.ndarray = np.argmax(self.values, axis=1)
            return winners
        return self.values

    def labels(self) -> np.ndarray:
        import numpy as np

        classes = 2 if self.objective.startswith("binary:") else self.num_class
        return np.broadcast_to(np.arange(classes), (self.values.shape[0], classes))

    def probability(self) -> np.ndarray:
        import numpy as np

        if self.values.ndim == 2:
            largest: np.ndarray = np.max(self.values, axis=1)
            return largest
        return self.values

    def probabilities(self) -> np.ndarray:
        return self.values if self.values.ndim == 2 else _complement_pairs(self.values)

    def raw_score(self) -> np.ndarray:
        import numpy as np

        if self.objective == "multi:softmax":
            largest: np.ndarray = np.max(self.margins(), axis=1)
            return largest
        return self.probability()

    def raw_scores(self) -> np.ndarray:
        if self.objective == "multi:softmax":
            return self.margins()
        return self.probabilities()


def _complement_pairs(values: np.ndarray) -> np.ndarray:
    """``[1 - x, x]`` per row, in double precision as the container computes it."""
    import numpy as np

    wide = values.astype(np.float64)
    return np.stack((1.0 - wide, wide), axis=1)
