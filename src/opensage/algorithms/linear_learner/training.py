"""Linear Learner training: one streaming pass per epoch trains every model; validation stops and selects.

Epoch 0 first buffers ``num_point_for_scaler`` rows to fit the feature (and, for regression,
label) scaler and the balanced weights, then trains on them and streams on. After each epoch
the models are scored on the validation channel (or by their training loss without one); each
model keeps its best epoch, and training stops when the best loss has not improved by
``early_stopping_tolerance`` (relative) for ``early_stopping_patience`` epochs. Hosts of a
ShardedByS3Key job each train on their shard from the same start and settings; the master
averages their models (in raw feature units, so each host's own scaler is folded in) and
selects one on validation data, which SageMaker asks to be FullyReplicated.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from opensage.algorithms.aialgs.channels import Batch
from opensage.algorithms.aialgs.metrics import MetricLog
from opensage.algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC
from opensage.algorithms.linear_learner.algorithm import BINARY, LOSSES, MULTICLASS, metric
from opensage.algorithms.linear_learner.losses import Loss
from opensage.algorithms.linear_learner.parallel import ParallelModels, Scaler, settings_from
from opensage.errors import AlgorithmClientError

Pass = Callable[[], Iterator[Batch]]


@dataclass(frozen=True)
class Problem:
    predictor_type: str
    classes: int  # score columns per model: num_classes for multiclass, else 1
    loss: Loss  # in raw label units

    def scaled_loss(self, label_scale: float) -> Loss:
        """The loss in normalised label units: label-unit parameters shrink with the label."""
        loss = self.loss
        return Loss(
            loss.name,
            loss.margin,
            loss.quantile,
            loss.insensitivity / label_scale,
            loss.huber_delta / label_scale,
        )


def problem_from(values: dict[str, Any]) -> Problem:
    predictor = values["predictor_type"]
    name = LOSSES[predictor][0] if values["loss"] == "auto" else values["loss"]
    loss = Loss(
        name, values["margin"], values["quantile"], values["loss_insensitivity"], values["huber_delta"]
    )
    return Problem(predictor, values["num_classes"] if predictor == MULTICLASS else 1, loss)


@dataclass
class Sources:
    """One pass over a channel per call; ``train`` takes the epoch number (Pipe mode's FIFO)."""

    train: Callable[[int], Iterator[Batch]]
    validation: Pass | None = None
    test: Pass | None = None


def check_labels(batch: Batch, problem: Problem) -> np.ndarray:
    if batch.labels is None or batch.labels.ndim != 1:
        raise AlgorithmClientError(f"{batch.source}: Linear Learner needs one label per record")
    labels = batch.labels.astype(np.float64)
    if problem.predictor_type == BINARY:
        bad = (labels != 0) & (labels != 1)
        expected = "0 or 1 for a binary_classifier"
    elif problem.predictor_type == MULTICLASS:
        bad = (labels != np.round(labels)) | (labels < 0) | (labels >= problem.classes)
        expected = f"an integer from 0 to {problem.classes - 1} for num_classes={problem.classes}"
    else:
        bad = ~np.isfinite(labels)
        expected = "a finite number for a regressor"
    if bad.any():
        raise AlgorithmClientError(f"{batch.source}: label {float(labels[bad][0])!r} is not {expected}")
    return labels


def _stack(batches: list[Batch]) -> Batch:
    if any(sparse.issparse(batch.features) for batch in batches):
        features: np.ndarray | sparse.csr_matrix = sparse.vstack(
            [sparse.csr_matrix(b.features) for b in batches], format="csr"
        )
    else:
        features = np.concatenate([np.asarray(b.features) for b in batches])
    labels = np.concatenate([b.labels for b in batches if b.labels is not None])
    return Batch(features, labels, batches[0].source)


def fit_scaler(sample: Batch, values: dict[str, Any], problem: Problem) -> Scaler:
    features = sample.features
    dense = not sparse.issparse(features)
    x = features.astype(np.float64)
    mean = np.asarray(x.mean(axis=0)).ravel()
    squares = sparse.csr_matrix(x).multiply(x) if not dense else np.asarray(x) ** 2
    square = np.asarray(squares.mean(axis=0)).ravel()
    # Shifting is on by default only for dense data, where it costs nothing in sparsity.
    unbias = dense if values["unbias_data"] == "auto" else values["unbias_data"]
    if not values["normalize_data"]:
        shift, scale = np.zeros_like(mean), np.ones_like(mean)
    else:
        shift = mean if unbias else np.zeros_like(mean)
        scale = np.sqrt(np.maximum(square - shift**2 if unbias else square, 0.0))
        scale[scale < 1e-12] = 1.0  # constant columns stay as they are
    scaler = Scaler(shift, scale)
    if problem.predictor_type == "regressor":
        normalize = values["normalize_label"] in ("auto", True)
        unbias_label = normalize if values["unbias_label"] == "auto" else values["unbias_label"]
        labels = np.asarray(sample.labels, dtype=np.float64)
        if normalize:
            scaler.label_mean = float(labels.mean()) if unbias_label else 0.0
            spread = float(np.sqrt(np.mean((labels - scaler.label_mean) ** 2)))
            scaler.label_scale = spread if spread > 1e-12 else 1.0
    return scaler


def row_weights(
    labels: np.ndarray, positive_weights: np.ndarray, class_weights: np.ndarray | None
) -> np.ndarray:
    """(rows, M): each row's weight under each model."""
    if class_weights is not None:
        return np.broadcast_to(
            class_weights[labels.astype(np.int64)][:, None], (labels.size, positive_weights.size)
        )
    return np.where(labels[:, None] == 1, positive_weights[None, :], 1.0)


class Trainer:
    """Runs the epochs for one host: ``run`` returns its models in raw units."""

    def __init__(self, values: dict[str, Any], problem: Problem, log: MetricLog) -> None:
        self.values, self.problem, self.log = values, problem, log
        self.settings = settings_from(values, problem.classes, TUNING_OBJECTIVE_METRIC in values)
        self.rows_seen = 0

    def _begin(self, sample: Batch) -> None:
        labels = check_labels(sample, self.problem)
        self.sample = sample
        self.scaler = fit_scaler(sample, self.values, self.problem)
        self.loss = self.problem.scaled_loss(self.scaler.label_scale)
        positives = float((labels == 1).sum())
        balanced = (labels.size - positives) / positives if positives else 1.0
        self.positive_weights = np.where(
            np.isnan(self.settings.positive_weights), balanced, self.settings.positive_weights
        )
        self.class_weights: np.ndarray | None = None
        if self.problem.predictor_type == MULTICLASS and self.values["balance_multiclass_weights"]:
            counts = np.bincount(labels.astype(np.int64), minlength=self.problem.classes).astype(np.float64)
            self.class_weights = np.where(
                counts > 0, labels.size / (self.problem.classes * np.maximum(counts, 1)), 1.0
            )
        self.models = ParallelModels.initial(self.settings, self.scaler, self.values)

    def _shaped(self, scores: np.ndarray) -> np.ndarray:
        k = self.problem.classes
        return scores.reshape(scores.shape[0], -1, k) if self.problem.predictor_type == MULTICLASS else scores

    def _train_step(self, batch: Batch, lr_step: int, totals: np.ndarray) -> None:
        labels = check_labels(batch, self.problem)
        # float64 once here: a float32 @ float64 product would skip BLAS for numpy's slow loop.
        features = batch.features.astype(np.float64)
        target = (labels - self.scaler.label_mean) / self.scaler.label_scale
        scores = self._shaped(self.models.scores(features))
        losses, gradient = self.loss.gradient(scores, target)
        weights = row_weights(labels, self.positive_weights, self.class_weights)
        totals += (losses * weights).sum(axis=0)
        gradient = gradient * (weights[..., None] if gradient.ndim == 3 else weights)
        self.models.step(features, gradient.reshape(labels.size, -1), lr_step)
        self.rows_seen += labels.size

    def _epoch(
        self, batches: Iterator[Batch], epoch: int, steps_per_epoch: int | None
    ) -> tuple[np.ndarray, int]:
        totals = np.zeros(self.settings.models)
        steps, rows = 0, 0
        # No decay until one epoch has shown how many mini-batches make one (lr_scheduler_step=auto).
        lr_step = self.settings.lr_step or steps_per_epoch or 1 << 62
        pending: list[Batch] = []
        for batch in batches:
            if epoch == 0 and not hasattr(self, "models"):
                pending.append(batch)
                if sum(b.n_rows for b in pending) < self.values["num_point_for_scaler"]:
                    continue
                self._begin(_stack(pending))
                to_train, pending = pending, []
            else:
                to_train = [batch]
            for item in to_train:
                self._train_step(item, lr_step, totals)
                steps, rows = steps + 1, rows + item.n_rows
        if pending:  # fewer rows than num_point_for_scaler in all
            self._begin(_stack(pending))
            for item in pending:
                self._train_step(item, lr_step, totals)
                steps, rows = steps + 1, rows + item.n_rows
        if rows == 0:
            raise AlgorithmClientError("The train channel holds no rows")
        self.sample_rows = rows
        return totals / rows, steps

    def raw_models(self) -> tuple[np.ndarray, np.ndarray]:
        """Weights and bias in raw feature and label units."""
        weights, bias = self.models.effective()
        return weights * self.scaler.label_scale, bias * self.scaler.label_scale + self.scaler.label_mean

    def validation_losses(self, validation: Pass) -> np.ndarray:
        weights, bias = self.raw_models()
        totals, rows = np.zeros(self.settings.models), 0
        for batch in validation():
            labels = check_labels(batch, self.problem)
            scores = self._shaped(np.asarray(batch.features.astype(np.float64) @ weights) + bias)
            totals += self.problem.loss.values(scores, labels).sum(axis=0)
            rows += labels.size
        if rows == 0:
            raise AlgorithmClientError("The validation channel holds no rows")
        return totals / rows

    def run(self, sources: Sources) -> tuple[np.ndarray, np.ndarray]:
        """Train for up to ``epochs`` epochs; each model's best epoch (by validation) is what it returns."""
        values = self.values
        best_losses = np.full(self.settings.models, np.inf)
        best: tuple[np.ndarray, np.ndarray] | None = None
        best_overall, stale = np.inf, 0
        steps_per_epoch: int | None = None
        for epoch in range(values["epochs"]):
            train_losses, steps_per_epoch = self._epoch(sources.train(epoch), epoch, steps_per_epoch)
            spelled = self.problem.loss.objective_name
            if sources.validation is not None:
                losses = self.validation_losses(sources.validation)
                self.log.quality(
                    metric("validation", "objective_loss"), float(losses.min()), epoch=epoch, spelled=spelled
                )
                weights, bias = self.raw_models()
                improved = losses < best_losses
                if best is None:
                    best = (weights.copy(), bias.copy())
                columns = np.repeat(improved, self.problem.classes)
                best[0][:, columns], best[1][columns] = weights[:, columns], bias[columns]
                best_losses = np.where(improved, losses, best_losses)
            else:
                losses = train_losses
                print(
                    f"#quality_metric: host={self.log.host}, epoch={epoch}, train {spelled} <loss>={float(losses.min())!r}",
                    flush=True,
                )
            self.log.progress(100.0 * (epoch + 1) / values["epochs"])
            current = float(losses.min())
            if not np.isfinite(best_overall) or current < best_overall * (1 - values["early_stopping_tolerance"]):
                best_overall, stale = current, 0
            else:
                stale += 1
                if stale >= values["early_stopping_patience"]:
                    print(
                        f"Early stopping after epoch {epoch}: no relative improvement of {values['early_stopping_tolerance']} "
                        f"in {stale} epochs",
                        flush=True,
                    )
                    break
        return best if best is not None else self.raw_models()
