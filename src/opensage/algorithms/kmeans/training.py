"""K-Means training: the streaming pass on every host, the merge and local Lloyd reduction on the master.

The master then scores the ``test`` channel (``test:msd``, ``test:ssd`` as ``eval_metrics``
asks) and writes ``model_algo-1``: the k centres as SageMaker writes them (``ndarray``).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from opensage.algorithms.aialgs import cluster
from opensage.algorithms.aialgs.channels import read_batches
from opensage.algorithms.aialgs.metrics import Direction, MetricLog, QualityMetric
from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.hyperparameters import AUTO, TUNING_OBJECTIVE_METRIC
from opensage.algorithms.kmeans import ndarray
from opensage.algorithms.kmeans.geometry import nearest
from opensage.algorithms.kmeans.lloyd import AUTO_TRIALS, weighted_lloyd
from opensage.algorithms.kmeans.streaming import SEED, StreamingState, merge_states
from opensage.errors import AlgorithmClientError

MODEL_FILE = "model_algo-1"
#: extra_center_factor=auto: enough spare centres that the summary keeps the clusters' shapes,
#: few enough that a mini-batch costs about as much as ten Lloyd iterations over it.
AUTO_EXTRA_CENTER_FACTOR = 10
#: Rows scored at a time on the test channel.
TEST_BATCH_ROWS = 4096


def extra_center_factor(values: dict[str, Any]) -> int:
    factor = values["extra_center_factor"]
    return AUTO_EXTRA_CENTER_FACTOR if factor == AUTO else int(factor)


def stream(env: TrainingEnvironment, values: dict[str, Any], log: MetricLog) -> StreamingState:
    """This host's passes (``epochs``) over its share of the train channel."""
    state = StreamingState(
        values["k"] * extra_center_factor(values),
        values["feature_dim"],
        init_method=values["init_method"],
        half_life=values["half_life_time_size"],
        host_rank=env.host_rank,
    )
    epochs = values["epochs"]
    for epoch in range(epochs):
        started = time.monotonic()
        state.start_epoch()
        for batch in read_batches(
            env.channels["train"],
            values["mini_batch_size"],
            epoch=epoch,
            feature_dim=values["feature_dim"],
            default_label_size=0,
        ):
            state.add(batch.features)
        state.finish()
        log.progress(100 * (epoch + 1) / epochs)
        log.throughput(state.rows_seen / max(time.monotonic() - started, 1e-9))
    return state


def reduce_to_k(centers: np.ndarray, weights: np.ndarray, values: dict[str, Any]) -> np.ndarray:
    trials = values["local_lloyd_num_trials"]
    return weighted_lloyd(
        centers,
        weights,
        values["k"],
        init_method=values["local_lloyd_init_method"],
        max_iter=values["local_lloyd_max_iter"],
        tol=values["local_lloyd_tol"],
        trials=AUTO_TRIALS if trials == AUTO else int(trials),
        random=np.random.default_rng([SEED, 1 << 20]),
    ).centers


def squared_distance_sum(
    env: TrainingEnvironment, channel: str, centers: np.ndarray, values: dict[str, Any]
) -> tuple[float, int]:
    """Σ min-distance² over a channel's rows, and their count (float64 distances)."""
    total, rows = 0.0, 0
    for batch in read_batches(
        env.channels[channel], TEST_BATCH_ROWS, feature_dim=values["feature_dim"], default_label_size=0
    ):
        features = batch.features.astype(np.float64)
        total += float(nearest(features, centers)[1].sum())
        rows += batch.n_rows
    return total, rows


def report_test_metrics(
    env: TrainingEnvironment, centers: np.ndarray, values: dict[str, Any], log: MetricLog
) -> None:
    ssd, rows = squared_distance_sum(env, "test", centers, values)
    if rows == 0:
        raise AlgorithmClientError("The test channel holds no rows")
    names = list(values["eval_metrics"])
    objective = values.get(TUNING_OBJECTIVE_METRIC, "")
    # A tuning job's objective is printed even when eval_metrics leaves it out, or it would never finish.
    if objective.startswith("test:") and objective[5:] not in names:
        names.append(objective[5:])
    for name in names:
        log.quality(QualityMetric("test", name, Direction.LOSS), ssd / rows if name == "msd" else ssd)


def train_kmeans(env: TrainingEnvironment, values: dict[str, Any]) -> None:
    log = MetricLog(env.current_host)
    state = stream(env, values, log)
    states = cluster.gather(env, state.to_bytes())
    if states is None:
        return  # the master writes the model
    centers, weights, rows = merge_states(states)
    k = values["k"]
    if rows < k:
        raise AlgorithmClientError(f"The train channel holds {rows} rows, fewer than k={k} clusters")
    final = reduce_to_k(centers, weights, values)
    if "test" in env.channels:
        report_test_metrics(env, final, values, log)
    env.model_dir.mkdir(parents=True, exist_ok=True)
    ndarray.save(env.model_dir / MODEL_FILE, [final.astype(np.float32)])
    summary_loss = float(weights @ nearest(centers, final)[1]) / max(float(weights.sum()), 1.0)
    print(
        f"K-Means: {rows} rows, {centers.shape[0]} streaming centres reduced to k={k}; "
        f"mean squared distance of the summary to the final centres {summary_loss:.6g}",
        flush=True,
    )
