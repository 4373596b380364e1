"""k-NN training: sample the train stream, merge the hosts' samples, index them, score the test channel.

Each host reservoir-samples its share of the train channel in one pass (``sampling``), the
master merges the samples into one uniform sample of every host's rows, reduces its dimension
if asked, builds the faiss index and writes the model; then it scores the test channel,
printing ``#test_score (algo-1) : ('accuracy', 0.98)`` (classifier) or ``('mse', ...)`` (regressor).
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from opensage.algorithms.aialgs import cluster
from opensage.algorithms.aialgs.channels import Batch, read_batches
from opensage.algorithms.aialgs.metrics import MetricLog
from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.knn.index import build_index, layout_for, plan_for, write_model
from opensage.algorithms.knn.model import KNNModel
from opensage.algorithms.knn.sampling import Reservoir, merge
from opensage.errors import AlgorithmClientError


def labelled(batch: Batch, channel: str) -> np.ndarray:
    """The batch's one label per row; k-NN cannot learn from rows without one."""
    if batch.labels is None:
        raise AlgorithmClientError(
            f"{batch.source}: the '{channel}' channel's rows have no label; k-NN needs the label first "
            "(text/csv with label_size=1, or RecordIO-protobuf records with label['values'])"
        )
    if batch.labels.ndim != 1:
        raise AlgorithmClientError(
            f"{batch.source}: rows have {batch.labels.shape[1]} label values; k-NN predicts one label per row"
        )
    return np.asarray(batch.labels, dtype=np.float32)


def sample_shard(env: TrainingEnvironment, values: dict[str, Any], log: MetricLog) -> Reservoir:
    """This host's reservoir sample of its share of the train channel."""
    reservoir = Reservoir(values["sample_size"], values["feature_dim"], env.host_rank)
    channel = env.channels["train"]
    if len(env.hosts) > 1 and channel.distribution == "FullyReplicated" and not env.is_master:
        # Every host holds every row: the master's sample alone is uniform; others add nothing.
        print(f"k-NN: the train channel is FullyReplicated; {env.hosts[0]} samples it alone", flush=True)
        return reservoir
    started = time.monotonic()
    for batch in read_batches(channel, values["mini_batch_size"], feature_dim=values["feature_dim"]):
        reservoir.add(batch.features, labelled(batch, "train"))
    log.progress(100)
    log.throughput(reservoir.seen / max(time.monotonic() - started, 1e-9))
    return reservoir


def train_knn(env: TrainingEnvironment, values: dict[str, Any]) -> None:
    log = MetricLog(env.current_host)
    reservoir = sample_shard(env, values, log)
    states = cluster.gather(env, reservoir.to_bytes())
    if states is None:
        return  # the master builds the index
    sample = merge(states, values["sample_size"])
    layout, pq_m = layout_for(values)
    plan = plan_for(values, pq_m, len(sample.labels))
    index = build_index(layout.vectors(sample.features), plan)
    metadata = write_model(env.model_dir, index, sample.labels, layout, plan, values)
    print(
        f"k-NN: indexed {len(sample.labels)} of {sample.rows_seen} rows read by {len(states)} host(s) "
        f"in {plan.index_type} ({plan.metric}, dimension {layout.index_dim}"
        + ("" if plan.index_type == "faiss.Flat" else f", {plan.nlist} lists, nprobe {metadata['nprobe']}")
        + ("" if pq_m is None else f", pq_m {pq_m}")
        + ")",
        flush=True,
    )
    if "test" in env.channels:
        model = KNNModel(
            index, sample.labels, layout, values["k"], values["predictor_type"], metadata["nprobe"]
        )
        score_test(env, values, model)


def score_test(env: TrainingEnvironment, values: dict[str, Any], model: KNNModel) -> None:
    """Accuracy (classifier) or mean squared error (regressor) over the test channel, mini-batch by mini-batch."""
    rows, total = 0, 0.0
    for batch in read_batches(
        env.channels["test"], values["mini_batch_size"], feature_dim=values["feature_dim"]
    ):
        truth = labelled(batch, "test")
        predicted, _, _ = model.predict_labels(batch.dense())
        if values["predictor_type"] == "classifier":
            total += float(np.count_nonzero(predicted == truth))
        else:
            total += float(np.sum((predicted.astype(np.float64) - truth) ** 2))
        rows += batch.n_rows
    if rows == 0:
        raise AlgorithmClientError("The test channel holds no rows")
    name = "accuracy" if values["predictor_type"] == "classifier" else "mse"
    print(f"#test_score ({env.current_host}) : ('{name}', {total / rows!r})", flush=True)
