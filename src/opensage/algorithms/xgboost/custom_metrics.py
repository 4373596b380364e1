"""The metrics SageMaker's XGBoost container computes itself (accuracy, f1, r2, ...), in numpy.

They are defined as scikit-learn defines them, as the container computes them with it. Each
is derived from sufficient statistics (a confusion matrix, sums of squares) that are summed
across hosts, so distributed training reports the metric of all the data, not of one shard.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from opensage.algorithms.xgboost.metrics import CLASS_LABEL_METRICS, POSITIVE_CLASS_METRICS

if TYPE_CHECKING:
    import numpy as np
    import xgboost

# Adds up an array across hosts (identity on one host).
Reducer = Callable[["np.ndarray"], "np.ndarray"]
CustomMetric = Callable[["np.ndarray", "xgboost.DMatrix"], list[tuple[str, float]]]


def custom_metric(
    names: Sequence[str], objective: str, num_class: int | None, reduce: Reducer
) -> CustomMetric:
    """XGBoost's ``custom_metric`` callable computing ``names`` on one evaluation set."""
    n_classes = num_class or 2
    classification = any(name in CLASS_LABEL_METRICS + POSITIVE_CLASS_METRICS for name in names)

    def evaluate(predictions: np.ndarray, data: xgboost.DMatrix) -> list[tuple[str, float]]:
        labels = data.get_label()
        scores: dict[str, float] = {}
        if classification:
            predicted = predicted_classes(predictions, objective, n_classes)
            scores.update(classification_scores(confusion_matrix(labels, predicted, n_classes, reduce)))
        scores.update(regression_scores(regression_sums(labels, predictions, reduce)))
        return [(name, scores[name]) for name in names]

    return evaluate


def predicted_classes(predictions: np.ndarray, objective: str, n_classes: int) -> np.ndarray:
    """Class indices from what ``Booster.predict`` returns for ``objective``."""
    import numpy as np

    if predictions.ndim == 2:
        return np.asarray(np.argmax(predictions, axis=1))
    if objective == "multi:softmax":
        return np.asarray(np.clip(np.rint(predictions), 0, n_classes - 1), dtype=np.int64)
    threshold = 0.0 if objective == "binary:logitraw" else 0.5
    return (predictions > threshold).astype(np.int64)


def confusion_matrix(
    labels: np.ndarray, predicted: np.ndarray, n_classes: int, reduce: Reducer
) -> np.ndarray:
    """Counts[true class, predicted class], summed over hosts."""
    import numpy as np

    truth = np.clip(np.rint(labels), 0, n_classes - 1).astype(np.int64)
    counts = np.bincount(truth * n_classes + predicted, minlength=n_classes * n_classes).astype(np.float64)
    return reduce(counts).reshape(n_classes, n_classes)


def classification_scores(confusion: np.ndarray) -> dict[str, float]:
    """Accuracy, precision, recall and F1 (binary, macro, micro) as scikit-learn computes them."""
    import numpy as np

    total = confusion.sum()
    correct = np.diag(confusion)
    predicted = confusion.sum(axis=0)
    actual = confusion.sum(axis=1)
    # scikit-learn averages over the classes present in the labels or the predictions.
    present = (predicted + actual) > 0
    precision = _ratio(correct, predicted)
    recall = _ratio(correct, actual)
    f1 = _ratio(2 * correct, predicted + actual)
    accuracy = float(correct.sum() / total) if total else 0.0
    positive = 1 if confusion.shape[0] > 1 else 0
    return {
        "accuracy": accuracy,
        "balanced_accuracy": float(recall[actual > 0].mean()) if (actual > 0).any() else 0.0,
        "f1": _mean(f1, present),
        "f1_macro": _mean(f1, present),
        "f1_binary": float(f1[positive]),
        "precision": float(precision[positive]),
        "precision_macro": _mean(precision, present),
        "precision_micro": accuracy,
        "recall": float(recall[positive]),
        "recall_macro": _mean(recall, present),
        "recall_micro": accuracy,
    }


def regression_sums(labels: np.ndarray, predictions: np.ndarray, reduce: Reducer) -> np.ndarray:
    """[count, sum of squared errors, sum of labels, sum of squared labels], summed over hosts."""
    import numpy as np

    values = predictions.reshape(labels.shape[0], -1)[:, 0] if predictions.ndim == 2 else predictions
    labels64 = labels.astype(np.float64)
    errors = labels64 - values.astype(np.float64)
    local = np.array([labels64.size, errors @ errors, labels64.sum(), labels64 @ labels64])
    return reduce(local)


def regression_scores(sums: np.ndarray) -> dict[str, float]:
    """MSE and R² (1 when the labels are constant and matched exactly, 0 when not, as scikit-learn)."""
    count, squared_errors, label_sum, label_squares = (float(value) for value in sums)
    if count == 0:
        return {"mse": 0.0, "r2": 0.0}
    total_squares = label_squares - label_sum * label_sum / count
    if total_squares <= 0:
        return {"mse": squared_errors / count, "r2": 1.0 if squared_errors == 0 else 0.0}
    return {"mse": squared_errors / count, "r2": 1.0 - squared_errors / total_squares}


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    import numpy as np

    out = np.zeros(numerator.shape, dtype=np.float64)
    np.divide(numerator, denominator, out=out, where=denominator > 0)
    return out


def _mean(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[mask].mean()) if mask.any() else 0.0
