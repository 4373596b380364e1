"""Translate validated SageMaker hyperparameters into the parameters of XGBoost 3's ``xgboost.train``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from opensage.errors import AlgorithmClientError

# Read by the container around xgboost.train, never passed to it.
CONTAINER_PARAMETERS = frozenset(
    {
        "num_round",
        "early_stopping_rounds",
        "csv_weights",
        "save_model_on_termination",
        "eval_metric",
        "_kfold",
        "_num_cv_round",
        "_tuning_objective_metric",
    }
)
# Accepted as SageMaker documents them, but XGBoost >= 2 has no such parameter any more.
REMOVED_PARAMETERS = {
    "predictor": "prediction runs where the model was trained",
    "sketch_eps": "approx uses max_bin instead",
    "lambda_bias": "gblinear has no separate bias penalty",
    "dsplit": "data is split by rows",
    "prob_buffer_row": "prediction buffers are gone",
    "deterministic_histogram": "histograms are always deterministic",
    "single_precision_histogram": "histograms use double precision",
    "use_dask_gpu_training": "there is no GPU here",
}


@dataclass
class NativeParams:
    """The ``params`` of ``xgboost.train``, and what was changed on the way, for the log."""

    params: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def native_params(
    values: Mapping[str, Any],
    given: frozenset[str],
    *,
    num_cpus: int,
    distributed: bool,
    eval_metrics: tuple[str, ...],
) -> NativeParams:
    """XGBoost parameters for the hyperparameters the job set; XGBoost's own defaults stand for the rest."""
    out = NativeParams()
    for name in sorted(given - CONTAINER_PARAMETERS):
        if name in REMOVED_PARAMETERS:
            out.notes.append(f"Ignoring {name}: XGBoost 3 removed it ({REMOVED_PARAMETERS[name]})")
        else:
            out.params[name] = _spelled(name, values[name])
    out.params["objective"] = _objective(values["objective"], out)
    out.params["seed"] = values["seed"]
    out.params["nthread"] = values.get("nthread") or num_cpus
    if eval_metrics:
        out.params["eval_metric"] = list(eval_metrics)
    _fit_tree_method(out, distributed)
    if values.get("process_type") == "update":
        raise AlgorithmClientError(
            "Hyperparameter 'process_type': update refreshes an existing model, and the XGBoost algorithm "
            "takes no input model; use process_type default"
        )
    return out


def _spelled(name: str, value: Any) -> Any:
    """A value as XGBoost takes it: lists become its comma and tuple spellings."""
    if name == "updater":
        return ",".join(value)
    if name == "monotone_constraints":
        return "(" + ",".join(str(item) for item in value) + ")"
    if name == "interaction_constraints":
        return json.dumps(value)
    return value


def _objective(objective: str, out: NativeParams) -> str:
    if objective == "reg:linear":
        out.notes.append(
            "Objective reg:linear is XGBoost's old name for reg:squarederror; training with that"
        )
        return "reg:squarederror"
    return objective


def _fit_tree_method(out: NativeParams, distributed: bool) -> None:
    tree_method = out.params.get("tree_method")
    if tree_method == "gpu_hist":
        out.notes.append("tree_method gpu_hist: there is no GPU here, training with hist on the CPU")
        out.params["tree_method"] = "hist"
    if not distributed:
        return
    if tree_method == "exact":
        out.notes.append("tree_method exact cannot train across hosts in XGBoost; training with hist")
        out.params["tree_method"] = "hist"
    if "grow_colmaker" in str(out.params.get("updater", "")):
        raise AlgorithmClientError(
            "Hyperparameter 'updater': grow_colmaker (the exact method) cannot train across hosts in "
            "XGBoost; use grow_quantile_histmaker or grow_histmaker, or train on one instance"
        )
