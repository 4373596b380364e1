"""RCF training: one pass of per-tree reservoir sampling, hosts' samples merged, trees built once.

The train channel streams through ``num_trees`` reservoirs of ``num_samples_per_tree`` rows;
that fixed-size state is all a host keeps. With several hosts (ShardedByS3Key) each samples its
shard and the master merges the samples exactly (``sampling.merge``), then builds the forest.
A labelled test channel is scored and judged by the three-sigma rule: rows scoring more than
three standard deviations above the mean test score are called anomalies, then compared with
the labels (1 = anomaly) as accuracy, precision, recall and F1.
"""

from __future__ import annotations

import io
import time
from typing import Any

import numpy as np

from opensage.algorithms.aialgs import cluster
from opensage.algorithms.aialgs.channels import read_batches
from opensage.algorithms.aialgs.metrics import MetricLog, QualityMetric
from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.rcf.algorithm import ACCURACY, F1, PRECISION, RECALL
from opensage.algorithms.rcf.forest import Forest, build_forest, score_rows
from opensage.algorithms.rcf.model import save_model
from opensage.algorithms.rcf.sampling import Reservoirs, merge
from opensage.errors import AlgorithmClientError

# RCF has no seed hyperparameter: a fixed seed (a stream per host) makes reruns give one model.
SEED = 1729
_MERGE_STREAM, _BUILD_STREAM = 1 << 20, 1 << 21


def sample_channel(env: TrainingEnvironment, values: dict[str, Any], log: MetricLog) -> Reservoirs:
    """This host's pass over its share of the train channel."""
    reservoirs = Reservoirs(
        values["num_trees"],
        values["num_samples_per_tree"],
        values["feature_dim"],
        np.random.default_rng([SEED, env.host_rank]),
    )
    started = time.monotonic()
    for batch in read_batches(
        env.channels["train"],
        values["mini_batch_size"],
        feature_dim=values["feature_dim"],
        default_label_size=0,
    ):
        reservoirs.add(batch.dense().astype(np.float64))
    log.progress(100)
    log.throughput(reservoirs.seen / max(time.monotonic() - started, 1e-9))
    return reservoirs


def _to_bytes(reservoirs: Reservoirs) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, samples=reservoirs.filled, seen=np.array(reservoirs.seen))
    return buffer.getvalue()


def _from_bytes(data: bytes) -> tuple[np.ndarray, int]:
    with np.load(io.BytesIO(data), allow_pickle=False) as arrays:
        return arrays["samples"], int(arrays["seen"])


def train_rcf(env: TrainingEnvironment, values: dict[str, Any]) -> None:
    log = MetricLog(env.current_host)
    states = cluster.gather(env, _to_bytes(sample_channel(env, values, log)))
    if states is None:
        print(f"{env.current_host}: sent its samples to {env.hosts[0]}, which builds the forest", flush=True)
        return
    parts = [_from_bytes(state) for state in states]
    seen = sum(count for _, count in parts)
    if seen == 0:
        raise AlgorithmClientError("The train channel holds no rows")
    if len(parts) == 1:
        samples = parts[0][0]
    else:
        samples = merge(parts, values["num_samples_per_tree"], np.random.default_rng([SEED, _MERGE_STREAM]))
        print(f"Merged the samples of {len(parts)} hosts ({seen} rows in all)", flush=True)
    forest = build_forest(samples, np.random.default_rng([SEED, _BUILD_STREAM]))
    print(
        f"Random Cut Forest: {forest.num_trees} trees of {forest.sample_size} samples from {seen} rows",
        flush=True,
    )
    if "test" in env.channels:
        evaluate(env, values, forest, log)
    save_model(forest, env.model_dir)


def evaluate(env: TrainingEnvironment, values: dict[str, Any], forest: Forest, log: MetricLog) -> None:
    """Score the labelled test channel and print the metrics ``eval_metrics`` asks for."""
    scores, labels = [], []
    for batch in read_batches(
        env.channels["test"], values["mini_batch_size"], feature_dim=values["feature_dim"]
    ):
        if batch.labels is None or batch.labels.ndim != 1:
            raise AlgorithmClientError(
                f"{batch.source}: the test channel needs one label per row (1 = anomaly, 0 = normal); "
                "with text/csv the label is the first column (label_size=1)"
            )
        scores.append(score_rows(forest, batch.dense()).score)
        labels.append(batch.labels)
    if not scores:
        raise AlgorithmClientError("The test channel holds no rows")
    truth = np.concatenate(labels)
    if not np.isin(truth, (0.0, 1.0)).all():
        raise AlgorithmClientError("Test labels must be 1 (anomaly) or 0 (normal)")
    for metric, value in three_sigma_metrics(np.concatenate(scores), truth == 1.0).items():
        group = "accuracy" if metric is ACCURACY else "precision_recall_fscore"
        if group in values["eval_metrics"]:
            log.quality(metric, value)


def three_sigma_metrics(scores: np.ndarray, anomalous: np.ndarray) -> dict[QualityMetric, float]:
    """Accuracy, precision, recall, F1 of calling rows above mean + 3 standard deviations anomalies."""
    called = scores > scores.mean() + 3.0 * scores.std()
    hits = float(np.sum(called & anomalous))
    precision = hits / called.sum() if called.any() else 0.0
    recall = hits / anomalous.sum() if anomalous.any() else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        ACCURACY: float(np.mean(called == anomalous)),
        PRECISION: precision,
        RECALL: recall,
        F1: f1,
    }
