"""Choosing the model and its threshold on validation data, and the documented quality metrics.

Binary classifiers: every model's scores are sorted once; each cut between two distinct scores
is a candidate threshold (predict 1 when score >= threshold), and cumulative true-positive
counts give accuracy, precision, recall and F-beta at every cut for every model at once.
``binary_classifier_model_selection_criteria`` picks the cut within a model and the model
among them; ``loss_function`` / ``cross_entropy_loss`` pick by loss and keep the natural
threshold (0.5 for a probability, 0 for a hinge score). Multiclass and regression models are
chosen by loss.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

_NEG = -np.inf


@dataclass(frozen=True)
class Choice:
    """The selected model's index, its threshold (binary) and the value the criterion gave it."""

    model: int
    threshold: float
    value: float


@dataclass(frozen=True)
class Cuts:
    """For each candidate cut (rows) of each model (columns): threshold and confusion counts."""

    thresholds: np.ndarray
    true_positives: np.ndarray
    predicted_positives: np.ndarray
    valid: np.ndarray
    positives: float
    rows: int


def cuts(scores: np.ndarray, labels: np.ndarray) -> Cuts:
    """Every distinct threshold of every model's scores (rows, M), with its confusion counts."""
    # Sorted model by model (rows contiguous); the order within ties is free, as only a tie's
    # last row is a cut.
    columns = np.ascontiguousarray(scores.T)
    order = np.argsort(-columns, axis=1)
    ordered = np.take_along_axis(columns, order, axis=1).T
    true_positives = np.cumsum(labels[order], axis=1).T
    predicted = np.arange(1, scores.shape[0] + 1, dtype=np.float64)[:, None]
    # A cut is only real where the next score is strictly lower (ties fall on the same side).
    valid = np.ones_like(ordered, dtype=bool)
    valid[:-1] = ordered[:-1] > ordered[1:]
    return Cuts(ordered, true_positives, predicted, valid, float(labels.sum()), scores.shape[0])


def _ratio(numerator: np.ndarray, denominator: np.ndarray | float) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.asarray(denominator) > 0, numerator / denominator, 0.0)


def f_beta(precision: np.ndarray, recall: np.ndarray, beta: float) -> np.ndarray:
    b2 = beta * beta
    return _ratio((1 + b2) * precision * recall, b2 * precision + recall)


def criterion_values(
    c: Cuts, criterion: str, beta: float, target_recall: float, target_precision: float
) -> np.ndarray:
    """The criterion at every cut of every model; invalid or out-of-target cuts are -inf."""
    tp, predicted = c.true_positives, c.predicted_positives
    if criterion == "accuracy":
        # Right: the true positives and the negatives left below the cut.
        values = (2 * tp - predicted + (c.rows - c.positives)) / c.rows
        return np.where(c.valid, values, _NEG)
    precision = _ratio(tp, predicted)
    recall = _ratio(tp, c.positives)
    if criterion in ("f_beta", "f1"):
        values = f_beta(precision, recall, 1.0 if criterion == "f1" else beta)
    elif criterion == "precision_at_target_recall":
        values = np.where(recall >= target_recall, precision, _NEG)
    else:  # recall_at_target_precision
        values = np.where(precision >= target_precision, recall, _NEG)
    return np.where(c.valid, values, _NEG)


def choose_binary(
    scores: np.ndarray,
    labels: np.ndarray,
    losses: np.ndarray,
    criterion: str,
    *,
    natural_threshold: float,
    beta: float,
    target_recall: float,
    target_precision: float,
) -> Choice:
    """The best model and threshold under ``criterion`` (scores (rows, M), mean losses (M,))."""
    if criterion in ("loss_function", "cross_entropy_loss"):
        best = int(np.argmin(losses))
        return Choice(best, natural_threshold, float(losses[best]))
    c = cuts(scores, labels)
    values = criterion_values(c, criterion, beta, target_recall, target_precision)
    per_model = values.max(axis=0)
    if not np.isfinite(per_model).any():
        # No cut reaches the target (recall_at_target_precision on hard data): fall back to loss.
        best = int(np.argmin(losses))
        return Choice(best, natural_threshold, 0.0)
    # Ties between models go to the lower loss.
    candidates = np.flatnonzero(per_model == per_model.max())
    best = int(candidates[np.argmin(losses[candidates])])
    cut = int(np.argmax(values[:, best]))
    return Choice(best, float(c.thresholds[cut, best]), float(per_model[best]))


def roc_auc(scores: np.ndarray, labels: np.ndarray) -> float | None:
    """Area under the ROC curve (ties count half); None when one class is absent."""
    positives = float(labels.sum())
    negatives = labels.size - positives
    if positives == 0 or negatives == 0:
        return None
    # Average ranks (1-based), tied scores sharing the mean of their positions.
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    starts = np.cumsum(counts) - counts
    ranks = (starts + (counts + 1) / 2.0)[inverse]
    return float((ranks[labels == 1].sum() - positives * (positives + 1) / 2) / (positives * negatives))


def binary_metrics(
    scores: np.ndarray, labels: np.ndarray, threshold: float, beta: float, loss: float
) -> dict[str, float]:
    predicted = scores >= threshold
    tp = float(np.sum(predicted & (labels == 1)))
    precision = tp / predicted.sum() if predicted.any() else 0.0
    recall = tp / labels.sum() if labels.any() else 0.0
    metrics = {
        "objective_loss": loss,
        "binary_classification_accuracy": float(np.mean(predicted == (labels == 1))),
        "binary_f_beta": float(f_beta(np.array(precision), np.array(recall), beta)),
        "precision": float(precision),
        "recall": float(recall),
    }
    auc = roc_auc(scores, labels)
    if auc is not None:
        metrics["roc_auc_score"] = auc
    return metrics


def multiclass_metrics(
    probabilities: np.ndarray, labels: np.ndarray, top_k: int, beta: float, loss: float
) -> dict[str, float]:
    classes = probabilities.shape[1]
    truth = labels.astype(np.int64)
    true_probability = probabilities[np.arange(truth.size), truth]
    # The true class's rank: how many classes score strictly higher.
    rank = (probabilities > true_probability[:, None]).sum(axis=1)
    predicted = probabilities.argmax(axis=1)
    right = predicted == truth
    hits = np.bincount(truth[right], minlength=classes).astype(np.float64)
    predicted_counts = np.bincount(predicted, minlength=classes).astype(np.float64)
    actual_counts = np.bincount(truth, minlength=classes).astype(np.float64)
    seen = (predicted_counts > 0) | (actual_counts > 0)
    precision = _ratio(hits, predicted_counts)[seen]
    recall = _ratio(hits, actual_counts)[seen]
    return {
        "objective_loss": loss,
        "multiclass_accuracy": float(right.mean()),
        "multiclass_top_k_accuracy": float(np.mean(rank < top_k)),
        "macro_precision": float(precision.mean()),
        "macro_recall": float(recall.mean()),
        "macro_f_beta": float(f_beta(precision, recall, beta).mean()),
        "dcg": float(np.mean(1.0 / np.log2(rank + 2.0))),
    }


def regression_metrics(predictions: np.ndarray, labels: np.ndarray, loss: float) -> dict[str, float]:
    errors = predictions - labels
    mse = float(np.mean(errors**2))
    return {
        "objective_loss": loss,
        "mse": mse,
        "absolute_loss": float(np.mean(np.abs(errors))),
        "rmse": float(np.sqrt(mse)),
    }
