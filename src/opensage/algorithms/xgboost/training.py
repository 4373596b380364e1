"""Train XGBoost on a job's channels: load and check the data on every host, run ``xgboost.train``, save.

Imported only when a job trains (it imports xgboost).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import xgboost
from xgboost.core import XGBoostError

from opensage.algorithms.base import TrainingEnvironment
from opensage.algorithms.hyperparameters import TUNING_OBJECTIVE_METRIC
from opensage.algorithms.xgboost import callbacks
from opensage.algorithms.xgboost.custom_metrics import custom_metric
from opensage.algorithms.xgboost.data import ChannelData, channel_content_type, load_channel, widen_to
from opensage.algorithms.xgboost.distributed import Group, host_group
from opensage.algorithms.xgboost.errors import clean_xgboost_message
from opensage.algorithms.xgboost.labels import label_rule
from opensage.algorithms.xgboost.metrics import EvaluationPlan, is_maximized, plan_evaluation
from opensage.algorithms.xgboost.params import NativeParams, native_params
from opensage.errors import AlgorithmClientError, AlgorithmError
from opensage.formats import content_type as ct

logger = logging.getLogger(__name__)
_T = TypeVar("_T")

MODEL_FILE = "xgboost-model"
# CSV and Parquet columns are positional: every file must have them all. Sparse formats only
# know their largest index, so their matrices are widened to the widest one.
_FIXED_COLUMN_TYPES = (ct.CSV, ct.PARQUET)


@dataclass(frozen=True)
class Job:
    """What one host trains: the validated hyperparameters and what was derived from them."""

    values: Mapping[str, Any]
    native: NativeParams
    plan: EvaluationPlan
    fixed_columns: bool


def run_job(
    env: TrainingEnvironment, values: Mapping[str, Any], given: frozenset[str], cluster_timeout_s: float
) -> None:
    """Train on ``env`` with validated hyperparameters; the master writes ``xgboost-model``."""
    distributed = len(env.hosts) > 1
    plan = plan_evaluation(
        values.get("eval_metric"), values.get(TUNING_OBJECTIVE_METRIC), "validation" in env.channels
    )
    native = native_params(
        values, given, num_cpus=env.num_cpus, distributed=distributed, eval_metrics=plan.native
    )
    media_types = {channel_content_type(channel) for channel in env.channels.values()}
    job = Job(values, native, plan, fixed_columns=bool(media_types & set(_FIXED_COLUMN_TYPES)))
    for note in native.notes:
        logger.info(note)
    if distributed:
        logger.info(
            "Distributed training on %d hosts %s; this is %s", len(env.hosts), env.hosts, env.current_host
        )
    else:
        logger.info("Single node training")
    with host_group(env, cluster_timeout_s) as group:
        train_data, valid_data = _on_every_host(group, env, lambda: _load(env, job))
        _log_shapes(train_data, valid_data, env, group)
        n_columns = _agree_on_shape(train_data, valid_data, group, job, "validation" in env.channels)
        dtrain, dvalid = _on_every_host(
            group,
            env,
            lambda: _matrices(train_data, valid_data, n_columns, job, "validation" in env.channels),
        )
        logger.info("XGBoost parameters: %s", native.params)
        booster = _train(job, dtrain, dvalid, group, env.current_host)
    if env.is_master:
        save_model(booster, env.model_dir)


def _on_every_host(group: Group, env: TrainingEnvironment, step: Callable[[], _T]) -> _T:
    """Run ``step`` on this host; if it fails on any host, it fails on every host.

    No host goes on to train on part of the data, and none waits for a host that gave up.
    """
    failure: Exception | None = None
    try:
        result = step()
    except Exception as exc:  # reported to the other hosts, then raised unchanged
        failure = exc
    failed = group.failed_hosts(failure is not None)
    if failure is not None:
        raise failure
    if failed:
        hosts = ", ".join(env.hosts[rank] for rank in failed)
        raise AlgorithmClientError(f"Host(s) {hosts} could not load their data; their logs say why")
    return result


def _load(env: TrainingEnvironment, job: Job) -> tuple[ChannelData | None, ChannelData | None]:
    rule = label_rule(job.values["objective"], job.values.get("num_class"))
    csv_weights = bool(job.values["csv_weights"])
    train_data = load_channel(env.channels["train"], csv_weights=csv_weights, label_rule=rule)
    valid_data = None
    if "validation" in env.channels:
        valid_data = load_channel(env.channels["validation"], csv_weights=csv_weights, label_rule=rule)
    _check_same_columns(train_data, valid_data, job)
    return train_data, valid_data


def _log_shapes(
    train_data: ChannelData | None, valid_data: ChannelData | None, env: TrainingEnvironment, group: Group
) -> None:
    for name, data in (("Train", train_data), ("Validation", valid_data)):
        if data is not None:
            logger.info("%s matrix has %d rows and %d columns", name, data.n_rows, data.n_columns)
        elif group.size > 1 and (name == "Train" or "validation" in env.channels):
            logger.info(
                "Host %s has no %s data; it joins with an empty shard", env.current_host, name.lower()
            )


def _matrices(
    train: ChannelData | None, valid: ChannelData | None, n_columns: int, job: Job, has_validation: bool
) -> tuple[xgboost.DMatrix, xgboost.DMatrix | None]:
    objective, nthread = job.values["objective"], int(job.native.params["nthread"])
    dtrain = to_dmatrix(train, n_columns, objective, nthread, "train")
    dvalid = to_dmatrix(valid, n_columns, objective, nthread, "validation") if has_validation else None
    return dtrain, dvalid


def _check_same_columns(train: ChannelData | None, valid: ChannelData | None, job: Job) -> None:
    if job.fixed_columns and train is not None and valid is not None and train.n_columns != valid.n_columns:
        raise AlgorithmClientError(
            f"Channel 'validation' has {valid.n_columns} feature columns but 'train' has {train.n_columns}; "
            "both must have the same columns"
        )


def _agree_on_shape(
    train: ChannelData | None, valid: ChannelData | None, group: Group, job: Job, has_validation: bool
) -> int:
    """Check that every host together has data, and return the number of feature columns."""
    where = "" if group.size == 1 else f" on any of the {group.size} hosts"
    rows = group.sum(np.array([_rows(train), _rows(valid)], dtype=np.float64))
    if rows[0] == 0:
        raise AlgorithmClientError(f"Channel 'train' has no data{where}")
    if has_validation and rows[1] == 0:
        raise AlgorithmClientError(f"Channel 'validation' has no data{where}")
    widths = [data.n_columns for data in (train, valid) if data is not None]
    bounds = group.max(np.array([max(widths, default=0), -min(widths, default=np.inf)], dtype=np.float64))
    widest, narrowest = int(bounds[0]), int(-bounds[1])
    if job.fixed_columns and widest != narrowest:
        raise AlgorithmClientError(
            f"The hosts' data have from {narrowest} to {widest} feature columns; every file must have "
            "the same columns"
        )
    return widest


def _rows(data: ChannelData | None) -> int:
    return 0 if data is None else data.n_rows


def to_dmatrix(
    data: ChannelData | None, n_columns: int, objective: str, nthread: int, channel: str
) -> xgboost.DMatrix:
    """A DMatrix of ``data`` with ``n_columns`` features (no rows when this host has none)."""
    if data is None:
        data = ChannelData(np.empty((0, n_columns), dtype=np.float32), np.empty(0, dtype=np.float32))
    data = widen_to(data, n_columns)
    try:
        matrix = xgboost.DMatrix(
            data.features, label=data.labels, weight=data.weights, missing=np.nan, nthread=nthread
        )
        if data.qid is not None:
            matrix.set_group(_group_sizes(data.qid))
        if objective == "survival:aft":
            # SageMaker's formats carry one label: read it as an uncensored survival time.
            matrix.set_float_info("label_lower_bound", data.labels)
            matrix.set_float_info("label_upper_bound", data.labels)
    except (XGBoostError, ValueError, TypeError) as exc:
        raise AlgorithmClientError(
            f"Channel '{channel}': XGBoost cannot use the data: {clean_xgboost_message(str(exc))}"
        ) from exc
    return matrix


def _group_sizes(qid: np.ndarray) -> np.ndarray:
    """Sizes of the runs of equal query ids (rows of a query are contiguous in ranking data)."""
    starts = np.concatenate(([0], np.flatnonzero(np.diff(qid)) + 1, [qid.size]))
    return np.diff(starts)


def _train(
    job: Job, dtrain: xgboost.DMatrix, dvalid: xgboost.DMatrix | None, group: Group, host: str
) -> xgboost.Booster:
    values = job.values
    evals = [(dtrain, "train")] + ([(dvalid, "validation")] if dvalid is not None else [])
    lines = callbacks.MetricLines(group, host, values["num_round"])
    chain: list[xgboost.callback.TrainingCallback] = [lines]
    if values.get("early_stopping_rounds"):
        metric = job.plan.stopping_metric
        maximize = is_maximized(metric) if metric else None
        chain.append(
            callbacks.early_stopping(
                values["early_stopping_rounds"], metric, job.plan.stopping_data, maximize
            )
        )
    if values["save_model_on_termination"]:
        chain.append(callbacks.StopOnTerminate(group))
    metric_fn = None
    if job.plan.custom:
        metric_fn = custom_metric(job.plan.custom, values["objective"], values.get("num_class"), group.sum)
    try:
        booster = xgboost.train(
            job.native.params,
            dtrain,
            num_boost_round=values["num_round"],
            evals=evals,
            verbose_eval=False,
            callbacks=chain,
            custom_metric=metric_fn,
        )
    except XGBoostError as exc:
        raise _training_error(exc, lines.completed) from exc
    if values.get("early_stopping_rounds") and booster.attr("best_iteration") is not None:
        logger.info(
            "Best iteration %s, best score %s", booster.attr("best_iteration"), booster.attr("best_score")
        )
    return booster


def _training_error(exc: XGBoostError, completed_rounds: int) -> Exception:
    """Before the first round completes, XGBoost fails on what the job gave it; later, on its own."""
    message = clean_xgboost_message(str(exc))
    if completed_rounds == 0:
        return AlgorithmClientError(f"XGBoost rejected the hyperparameters or data: {message}")
    return AlgorithmError(f"XGBoost failed after {completed_rounds} rounds: {message}")


def save_model(booster: xgboost.Booster, model_dir: Path) -> Path:
    """Write the model as ``xgboost-model`` (UBJSON, what ``Booster.save_model`` writes), atomically."""
    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / MODEL_FILE
    partial = model_dir / f".{MODEL_FILE}.partial"
    with partial.open("wb") as stream:
        stream.write(booster.save_raw(raw_format="ubj"))
        stream.flush()
        os.fsync(stream.fileno())
    os.replace(partial, target)
    logger.info("Saved the model to %s", target)
    return target
