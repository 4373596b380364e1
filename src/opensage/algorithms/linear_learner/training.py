"""Linear Learner training: one streaming pass per epoch trains every model; validation stops and selects.

Epoch 0 first buffers ``num_point_for_scaler`` rows to fit the feature (and, for regression,
label) scaler and the balanced weights, then trains on them and streams on. After each epoch
the models are scored on the validation channel (or by their training loss without one); each
model keeps its best epoch. A model whose loss has not improved by ``early_stopping_tolerance``
(relative) for ``early_stopping_patience`` epochs, or has diverged, stops and leaves the
matrix; the run stops when the best loss of all has not improved so for that many epochs, or
no model is left.

Hosts of a ShardedByS3Key job (``exchange`` given) train as one: they merge their scaler
samples' statistics before the first step, and after every epoch the master averages the
hosts' parameters and optimizer state (weighted by rows), scores the average on validation
data (which SageMaker asks to be FullyReplicated) and sends both back, so every host goes on
from the same models and takes the same early-stopping decisions.
"""

from __future__ import annotations

import contextlib
import functools
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import Any

import numpy as np
from scipy import sparse
from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

from opensage.algorithms.aialgs.channels import Batch
from opensage.algorithms.aialgs.metrics import MetricLog
from opensage.algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC
from opensage.algorithms.linear_learner.algorithm import BINARY, LOSSES, MULTICLASS, metric
from opensage.algorithms.linear_learner.losses import Loss
from opensage.algorithms.linear_learner.parallel import ParallelModels, Scaler, settings_from
from opensage.errors import AlgorithmClientError

#: Below this many multiply-adds per product (rows x features x columns), BLAS runs on one
#: thread: threads gain nothing on products this small, and on a busy machine their hand-offs
#: made training several times slower.
SINGLE_THREAD_PRODUCT = 1 << 24


@functools.cache
def _blas_controller() -> Any:
    # Finding the loaded BLAS libraries walks every loaded library: once per process.
    return ThreadpoolController()


def blas_threads_for(product: int) -> contextlib.AbstractContextManager[object]:
    """One BLAS thread while products of ``product`` multiply-adds run, if that is small."""
    if product < SINGLE_THREAD_PRODUCT:
        limits: contextlib.AbstractContextManager[object] = _blas_controller().limit(
            limits=1, user_api="blas"
        )
        return limits
    return contextlib.nullcontext()


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
    labels = batch.labels.astype(np.float32, copy=False)
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


#: Sends this host's state to the master, which merges every host's (in host order) with the
#: callback, and answers the merged state on every host (``cluster.exchange`` bound to a job).
Exchange = Callable[[bytes, Callable[[list[bytes]], bytes]], bytes]


def _stack(batches: list[Batch]) -> Batch:
    if any(sparse.issparse(batch.features) for batch in batches):
        features: np.ndarray | sparse.csr_matrix = sparse.vstack(
            [sparse.csr_matrix(b.features) for b in batches], format="csr"
        )
    else:
        features = np.concatenate([np.asarray(b.features) for b in batches])
    labels = np.concatenate([b.labels for b in batches if b.labels is not None])
    return Batch(features, labels, batches[0].source)


def _pack(**arrays: Any) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _unpack(state: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(state), allow_pickle=False) as arrays:
        return {name: arrays[name] for name in arrays.files}


@dataclass
class SampleStatistics:
    """Sums over a scaler sample that add up across hosts; the scaler and balanced weights come from them."""

    rows: np.ndarray
    sparse_parts: np.ndarray  # how many hosts' samples were sparse
    sums: np.ndarray
    squares: np.ndarray
    label_sum: np.ndarray
    label_squares: np.ndarray
    #: Rows per class: (num_classes,) for multiclass, (2,) for binary, empty for regression.
    class_counts: np.ndarray

    @classmethod
    def of(cls, sample: Batch, problem: Problem) -> SampleStatistics:
        labels = check_labels(sample, problem).astype(np.float64)
        features = sample.features
        is_sparse = sparse.issparse(features)
        x = features.astype(np.float64)
        squares = sparse.csr_matrix(x).multiply(x) if is_sparse else np.asarray(x) ** 2
        counts = np.zeros(0)
        if problem.predictor_type in (BINARY, MULTICLASS):
            classes = max(problem.classes, 2)
            counts = np.bincount(labels.astype(np.int64), minlength=classes).astype(np.float64)
        return cls(
            np.array(float(labels.size)),
            np.array(float(is_sparse)),
            np.asarray(x.sum(axis=0)).ravel(),
            np.asarray(squares.sum(axis=0)).ravel(),
            np.array(labels.sum()),
            np.array((labels**2).sum()),
            counts,
        )

    def to_bytes(self) -> bytes:
        return _pack(**{f.name: getattr(self, f.name) for f in fields(self)})

    @classmethod
    def merged(cls, states: list[bytes]) -> bytes:
        """Several hosts' statistics as one (the merge callback of the scaler's exchange)."""
        parts = [_unpack(state) for state in states]
        return _pack(**{name: sum(part[name] for part in parts) for name in parts[0]})

    @classmethod
    def from_bytes(cls, state: bytes) -> SampleStatistics:
        return cls(**_unpack(state))


def scaler_from(statistics: SampleStatistics, values: dict[str, Any], problem: Problem) -> Scaler:
    rows = float(statistics.rows)
    mean = statistics.sums / rows
    square = statistics.squares / rows
    # Shifting is on by default only for dense data, where it costs nothing in sparsity.
    dense = not statistics.sparse_parts
    unbias = dense if values["unbias_data"] == "auto" else values["unbias_data"]
    if not values["normalize_data"]:
        shift, scale = np.zeros_like(mean), np.ones_like(mean)
    else:
        shift = mean if unbias else np.zeros_like(mean)
        scale = np.sqrt(np.maximum(square - shift**2 if unbias else square, 0.0))
        scale[scale < 1e-12] = 1.0  # constant columns stay as they are
    scaler = Scaler(shift, scale)
    if problem.predictor_type == "regressor" and values["normalize_label"] in ("auto", True):
        unbias_label = True if values["unbias_label"] == "auto" else values["unbias_label"]
        label_mean = float(statistics.label_sum) / rows
        scaler.label_mean = label_mean if unbias_label else 0.0
        # E[(y - m)^2] from the sums: E[y^2] - 2 m E[y] + m^2.
        spread2 = (
            float(statistics.label_squares) / rows - 2 * scaler.label_mean * label_mean + scaler.label_mean**2
        )
        spread = float(np.sqrt(max(spread2, 0.0)))
        scaler.label_scale = spread if spread > 1e-12 else 1.0
    return scaler


class Trainer:
    """Runs the epochs for one host: ``run`` returns every model's best epoch in raw units."""

    def __init__(
        self, values: dict[str, Any], problem: Problem, log: MetricLog, exchange: Exchange | None = None
    ) -> None:
        self.values, self.problem, self.log, self.exchange = values, problem, log, exchange
        self.settings = settings_from(values, problem.classes, TUNING_OBJECTIVE_METRIC in values)
        self.rows_seen = 0
        self.track_train_loss = True
        self._limits = contextlib.ExitStack()

    def _begin(self, sample: Batch) -> None:
        self.sample = sample
        statistics = SampleStatistics.of(sample, self.problem)
        if self.exchange is not None:
            statistics = SampleStatistics.from_bytes(
                self.exchange(statistics.to_bytes(), SampleStatistics.merged)
            )
        self.scaler = scaler_from(statistics, self.values, self.problem)
        self.loss = self.problem.scaled_loss(self.scaler.label_scale)
        rows, counts = float(statistics.rows), statistics.class_counts
        positives = float(counts[1]) if self.problem.predictor_type == BINARY else 0.0
        balanced = (rows - positives) / positives if positives else 1.0
        self.positive_weights = np.where(
            np.isnan(self.settings.positive_weights), balanced, self.settings.positive_weights
        )
        self.class_weights: np.ndarray | None = None
        if self.problem.predictor_type == MULTICLASS and self.values["balance_multiclass_weights"]:
            weights = np.where(counts > 0, rows / (self.problem.classes * np.maximum(counts, 1)), 1.0)
            self.class_weights = weights.astype(np.float32)
        self.models = ParallelModels.initial(self.settings, self.scaler, self.values)
        self._models_changed()
        self._limits.enter_context(blas_threads_for(self.values["mini_batch_size"] * self.models.params.size))

    def _models_changed(self) -> None:
        """Per-model row weights for the models still training."""
        self._positive_extra: np.ndarray | None = None
        if self.problem.predictor_type == BINARY:
            extra = (self.positive_weights[self.models.active] - 1.0).astype(np.float32)
            self._positive_extra = extra if extra.any() else None

    def _row_weights(self, labels: np.ndarray) -> np.ndarray | None:
        """(rows, A) or (rows, 1) weights of each row under each model; None when all are 1."""
        if self._positive_extra is not None:
            weights: np.ndarray = np.multiply.outer(labels, self._positive_extra)
            weights += 1.0
            return weights
        if self.class_weights is not None:
            return self.class_weights[labels.astype(np.int64)][:, None]
        return None

    def _shaped(self, scores: np.ndarray) -> np.ndarray:
        k = self.problem.classes
        return scores.reshape(scores.shape[0], -1, k) if self.problem.predictor_type == MULTICLASS else scores

    def _train_step(self, batch: Batch, lr_step: int, totals: np.ndarray | None) -> None:
        labels = check_labels(batch, self.problem)
        features = batch.features
        if sparse.issparse(features):
            features = sparse.csr_matrix(features, dtype=np.float32)
        else:
            features = np.asarray(features, dtype=np.float32)
        target = labels
        if self.scaler.label_mean != 0.0 or self.scaler.label_scale != 1.0:
            target = ((labels - self.scaler.label_mean) / self.scaler.label_scale).astype(np.float32)
        scores = self._shaped(self.models.scores(features))
        weights = self._row_weights(labels)
        if totals is not None:
            losses = self.loss.values(scores, target)
            totals += (losses if weights is None else losses * weights).sum(axis=0)
        gradient = self.loss.derivative(scores, target).reshape(labels.size, -1)
        gradient = gradient.astype(np.float32, copy=False)
        if weights is not None:
            gradient *= weights
        self.models.step(features, gradient, lr_step)
        self.rows_seen += labels.size

    def _epoch(
        self, batches: Iterator[Batch], epoch: int, steps_per_epoch: int | None
    ) -> tuple[np.ndarray | None, int, int]:
        """One pass: the training loss sums per model (when tracked), rows and mini-batches."""
        totals: np.ndarray | None = None
        if self.track_train_loss:
            totals = np.zeros(self.models.active.size if hasattr(self, "models") else self.settings.models)
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
        return totals, rows, steps

    def raw_models(self) -> tuple[np.ndarray, np.ndarray]:
        """The active models' weights and bias in raw feature and label units (columns ``models.columns``)."""
        weights, bias = self.models.effective()
        return weights * self.scaler.label_scale, bias * self.scaler.label_scale + self.scaler.label_mean

    def validation_losses(self, validation: Pass) -> np.ndarray:
        """Each active model's mean loss on the validation channel."""
        weights, bias = (part.astype(np.float32) for part in self.raw_models())
        totals, rows = np.zeros(self.models.active.size), 0
        for batch in validation():
            labels = check_labels(batch, self.problem)
            features = batch.features.astype(np.float32, copy=False)
            scores = self._shaped(np.asarray(features @ weights) + bias)
            totals += self.problem.loss.values(scores, labels).sum(axis=0)
            rows += labels.size
        if rows == 0:
            raise AlgorithmClientError("The validation channel holds no rows")
        return totals / rows

    def _losses(self, totals: np.ndarray | None, rows: float, validation: Pass | None) -> np.ndarray:
        if validation is not None:
            return self.validation_losses(validation)
        assert totals is not None
        return totals / rows

    def _epoch_losses(self, totals: np.ndarray | None, rows: int, validation: Pass | None) -> np.ndarray:
        """The epoch's loss per active model; with several hosts, after they are averaged."""
        if self.exchange is None:
            return self._losses(totals, rows, validation)
        models = self.models
        state = _pack(
            params=models.params,
            moments=models.moments,
            totals=np.zeros(0) if totals is None else totals,
            rows=rows,
        )
        merged = _unpack(self.exchange(state, lambda states: self._merge_hosts(states, validation)))
        models.params[...], models.moments[...] = merged["params"], merged["moments"]
        return merged["losses"]

    def _merge_hosts(self, states: list[bytes], validation: Pass | None) -> bytes:
        """On the master: the hosts' models averaged (weighted by rows) and their losses."""
        hosts = [_unpack(state) for state in states]
        rows = np.array([float(host["rows"]) for host in hosts])
        share = rows / rows.sum()
        models = self.models
        models.params[...] = sum(s * host["params"] for s, host in zip(share, hosts, strict=True))
        models.moments[...] = sum(s * host["moments"] for s, host in zip(share, hosts, strict=True))
        totals = sum(host["totals"] for host in hosts) if self.track_train_loss else None
        losses = self._losses(totals, float(rows.sum()), validation)  # type: ignore[arg-type]
        return _pack(params=models.params, moments=models.moments, losses=losses)

    def _log_epoch(self, epoch: int, loss: float, validated: bool) -> None:
        spelled = self.problem.loss.objective_name
        if validated:
            self.log.quality(metric("validation", "objective_loss"), loss, epoch=epoch, spelled=spelled)
        else:
            print(
                f"#quality_metric: host={self.log.host}, epoch={epoch}, train {spelled} <loss>={loss!r}",
                flush=True,
            )
        self.log.progress(100.0 * (epoch + 1) / self.values["epochs"])

    def run(self, sources: Sources) -> tuple[np.ndarray, np.ndarray]:
        """Train for up to ``epochs`` epochs; each model's best epoch (by validation) is what it returns."""
        self.track_train_loss = sources.validation is None
        with self._limits:
            best = self._epochs(sources)
        return best if best is not None else self.raw_models()

    def _epochs(self, sources: Sources) -> tuple[np.ndarray, np.ndarray] | None:
        values, count = self.values, self.settings.models
        patience, tolerance = values["early_stopping_patience"], values["early_stopping_tolerance"]
        best_losses, stale = np.full(count, np.inf), np.zeros(count, np.int64)
        best: tuple[np.ndarray, np.ndarray] | None = None
        best_overall, overall_stale = np.inf, 0
        steps_per_epoch: int | None = None
        for epoch in range(values["epochs"]):
            totals, rows, steps_per_epoch = self._epoch(sources.train(epoch), epoch, steps_per_epoch)
            losses = self._epoch_losses(totals, rows, sources.validation)
            finite = losses[np.isfinite(losses)]
            current = float(finite.min()) if finite.size else np.inf
            self._log_epoch(epoch, current, sources.validation is not None)
            active, columns = self.models.active, self.models.columns
            weights, bias = self.raw_models()
            if best is None:  # the first epoch: every model is active
                best = (weights.copy(), bias.copy())
            improved = losses < best_losses[active]
            moved = np.repeat(improved, self.problem.classes)
            best[0][:, columns[moved]], best[1][columns[moved]] = weights[:, moved], bias[moved]
            significant = losses < best_losses[active] * (1 - tolerance)
            best_losses[active] = np.where(improved, losses, best_losses[active])
            stale[active] = np.where(significant, 0, stale[active] + 1)
            if current < best_overall * (1 - tolerance):
                best_overall, overall_stale = current, 0
            else:
                overall_stale += 1
            finished = (stale[active] >= patience) | ~np.isfinite(losses)
            if overall_stale >= patience or finished.all():
                print(
                    f"Early stopping after epoch {epoch}: no relative improvement of {tolerance} "
                    f"in {max(overall_stale, patience)} epochs",
                    flush=True,
                )
                break
            if finished.any():
                print(
                    f"Epoch {epoch}: {int(finished.sum())} model(s) stopped early, each keeps its best epoch",
                    flush=True,
                )
                self.models.keep(~finished)
                self._models_changed()
        return best
