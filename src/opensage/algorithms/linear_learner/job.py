"""A Linear Learner training job: channels in, hosts' models averaged every epoch, one model selected, metrics printed, model out."""

from __future__ import annotations

import functools
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from opensage.algorithms.aialgs import cluster
from opensage.algorithms.aialgs.channels import Batch, read_batches
from opensage.algorithms.aialgs.metrics import MetricLog
from opensage.algorithms.base import ChannelInput, TrainingEnvironment
from opensage.algorithms.linear_learner.algorithm import BINARY, MULTICLASS, LinearLearnerAlgorithm
from opensage.algorithms.linear_learner.evaluation import (
    binary_metrics,
    choose_binary,
    multiclass_metrics,
    regression_metrics,
)
from opensage.algorithms.linear_learner.losses import sigmoid
from opensage.algorithms.linear_learner.model import MODEL_FILE, Fitted
from opensage.algorithms.linear_learner.training import (
    Exchange,
    Pass,
    Problem,
    Sources,
    Trainer,
    blas_threads_for,
    check_labels,
    problem_from,
)
from opensage.errors import AlgorithmClientError

#: ``num_calibration_samples=auto``: how many validation rows choose the model and threshold.
AUTO_CALIBRATION_SAMPLES = 100_000


class ChannelPasses:
    """Passes over the job's channels; Pipe mode reads the next epoch's FIFO on every pass."""

    def __init__(self, env: TrainingEnvironment, values: dict[str, Any]) -> None:
        self.env, self.batch_size = env, values["mini_batch_size"]
        self.feature_dim: int | None = None if values["feature_dim"] == "auto" else values["feature_dim"]
        self.passes: dict[str, int] = {}

    def _read(self, channel: ChannelInput) -> Iterator[Batch]:
        epoch = self.passes.get(channel.name, 0)
        self.passes[channel.name] = epoch + 1
        for batch in read_batches(channel, self.batch_size, epoch=epoch, feature_dim=self.feature_dim):
            # feature_dim=auto: the first batch decides, and every later one is checked against it.
            self.feature_dim = batch.n_columns
            yield batch

    def pass_over(self, name: str) -> Pass | None:
        channel = self.env.channels.get(name)
        return None if channel is None else (lambda: self._read(channel))

    def sources(self) -> Sources:
        train = self.env.channels["train"]
        return Sources(lambda epoch: self._read(train), self.pass_over("validation"), self.pass_over("test"))


def _model(weights: np.ndarray, bias: np.ndarray, problem: Problem, index: int, threshold: float) -> Fitted:
    k = problem.classes
    columns = slice(index * k, (index + 1) * k)
    return Fitted(
        problem.predictor_type, problem.loss.name, weights[:, columns].copy(), bias[columns].copy(), threshold
    )


def _collect(
    data: Iterator[Batch], weights: np.ndarray, bias: np.ndarray, problem: Problem, limit: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Every model's raw scores on up to ``limit`` rows, their labels, and whether rows were left over."""
    scores: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    rows = 0
    for batch in data:
        if rows >= limit:
            return np.concatenate(scores), np.concatenate(labels), True
        take = min(batch.n_rows, limit - rows)
        features = batch.features[:take]
        scores.append(np.asarray(features.astype(np.float64) @ weights) + bias)
        labels.append(check_labels(batch, problem)[:take])
        rows += take
    if not scores:
        raise AlgorithmClientError("The data to select a model on holds no rows")
    return np.concatenate(scores), np.concatenate(labels), False


def select(
    weights: np.ndarray, bias: np.ndarray, problem: Problem, values: dict[str, Any], data: Iterator[Batch]
) -> tuple[Fitted, bool]:
    """The best model (and threshold) on ``data``; True when the data had more rows than were used."""
    limit = (
        AUTO_CALIBRATION_SAMPLES
        if values["num_calibration_samples"] == "auto"
        else values["num_calibration_samples"]
    )
    with blas_threads_for(values["mini_batch_size"] * weights.size):
        raw, labels, more = _collect(data, weights, bias, problem, limit)
    k = problem.classes
    shaped = raw.reshape(raw.shape[0], -1, k) if problem.predictor_type == MULTICLASS else raw
    losses = problem.loss.values(shaped, labels).mean(axis=0)
    if problem.predictor_type != BINARY:
        return _model(weights, bias, problem, int(np.argmin(losses)), 0.0), more
    logistic = problem.loss.name == "logistic"
    choice = choose_binary(
        sigmoid(raw) if logistic else raw,
        labels,
        losses,
        values["binary_classifier_model_selection_criteria"],
        natural_threshold=0.5 if logistic else 0.0,
        beta=values["f_beta"],
        target_recall=values["target_recall"],
        target_precision=values["target_precision"],
    )
    return _model(weights, bias, problem, choice.model, choice.threshold), more


def channel_metrics(
    fitted: Fitted, problem: Problem, values: dict[str, Any], data: Iterator[Batch]
) -> dict[str, float]:
    """The documented metrics of the selected model on every row of ``data``."""
    raw_parts, label_parts = [], []
    for batch in data:
        raw_parts.append(fitted.raw_scores(batch.features))
        label_parts.append(check_labels(batch, problem))
    if not raw_parts:
        raise AlgorithmClientError("A channel to score holds no rows")
    raw, labels = np.concatenate(raw_parts), np.concatenate(label_parts)
    score, _ = fitted.outputs(raw)
    if problem.predictor_type == MULTICLASS:
        loss = float(problem.loss.values(raw[:, None, :], labels).mean())
        return multiclass_metrics(score, labels, values["accuracy_top_k"], values["f_beta"], loss)
    loss = float(problem.loss.values(raw, labels).mean())
    if problem.predictor_type == BINARY:
        return binary_metrics(score, labels, fitted.threshold, values["f_beta"], loss)
    return regression_metrics(score, labels, loss)


def print_metrics(
    log: MetricLog, channel: str, metrics: dict[str, float], problem: Problem, beta: float
) -> None:
    declared = {(m.channel, m.name): m for m in LinearLearnerAlgorithm.quality_metrics}
    spelled = {"objective_loss": problem.loss.objective_name, "binary_f_beta": f"binary_f_{beta:.3f}"}
    for name, value in metrics.items():
        if (channel, name) in declared:
            log.quality(declared[channel, name], value, spelled=spelled.get(name))


def train_linear_learner(env: TrainingEnvironment, values: dict[str, Any]) -> None:
    log = MetricLog(env.current_host)
    problem = problem_from(values)
    channels = ChannelPasses(env, values)
    sources = channels.sources()
    exchange: Exchange | None = None
    if len(env.hosts) > 1:
        # Hosts average their models after every epoch, so they end with the same ones.
        exchange = functools.partial(cluster.exchange, env)
    trainer = Trainer(values, problem, log, exchange)
    started = time.monotonic()
    weights, bias = trainer.run(sources)
    log.throughput(trainer.rows_seen / max(time.monotonic() - started, 1e-9))
    if not env.is_master:
        return  # the master selects and writes the model
    selection = sources.validation() if sources.validation is not None else iter([trainer.sample])
    fitted, more = select(weights, bias, problem, values, selection)
    env.model_dir.mkdir(parents=True, exist_ok=True)
    fitted.save(env.model_dir / MODEL_FILE)
    if sources.validation is not None:
        metrics = channel_metrics(fitted, problem, values, sources.validation())
        print_metrics(log, "validation", metrics, problem, values["f_beta"])
    if sources.test is not None:
        print_metrics(
            log, "test", channel_metrics(fitted, problem, values, sources.test()), problem, values["f_beta"]
        )
    print(
        f"Linear Learner: {trainer.settings.models} model(s) on {len(env.hosts)} host(s); selected threshold "
        f"{fitted.threshold:.6g}"
        + (" (selection used the first num_calibration_samples rows)" if more else ""),
        flush=True,
    )
