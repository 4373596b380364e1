"""The hyperparameters of SageMaker's XGBoost 1.7-1 container: names, ranges, defaults and rules."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from opensage.algorithms.hyperparameters import (
    Boolean,
    Categorical,
    Constraint,
    Continuous,
    Hyperparameter,
    HyperparameterSpec,
    Integer,
    InvalidValue,
    Kind,
    ListOf,
    NestedIntegerLists,
    Range,
    RequiredWhen,
)
from opensage.algorithms.xgboost.metrics import (
    CLASS_LABEL_METRICS,
    EVAL_METRICS,
    POSITIVE_CLASS_METRICS,
    THRESHOLD_METRICS,
)

OBJECTIVES = (
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "count:poisson",
    "multi:softmax",
    "multi:softprob",
    "rank:pairwise",
    "rank:ndcg",
    "rank:map",
    "reg:linear",
    "reg:squarederror",
    "reg:logistic",
    "reg:gamma",
    "reg:pseudohubererror",
    "reg:squaredlogerror",
    "reg:absoluteerror",
    "reg:tweedie",
    "survival:aft",
    "survival:cox",
)
MULTICLASS_OBJECTIVES = ("multi:softmax", "multi:softprob")
TREE_UPDATERS = ("grow_colmaker", "grow_histmaker", "grow_quantile_histmaker", "sync", "refresh", "prune")
TREE_GROW_UPDATERS = ("grow_colmaker", "grow_histmaker", "grow_quantile_histmaker")
LINEAR_UPDATERS = ("shotgun", "coord_descent")
INT32 = Range(-(2**31), 2**31 - 1)
AT_LEAST_0 = Range(low=0)
UNIT = Range(0, 1)
UNIT_OPEN_LOW = Range(0, 1, low_open=True)
TRUE_FALSE = Boolean(true_values=("true",), false_values=("false",))


class EvalMetric(Kind):
    """One ``eval_metric`` item: a documented metric, or ``error@t``, ``ndcg@n``, ``map@n``."""

    def parse(self, text: str) -> str:
        if text in EVAL_METRICS:
            return text
        name, at, threshold = text.partition("@")
        if not at or name not in THRESHOLD_METRICS:
            raise InvalidValue(f"value {text!r} is not a supported metric: {self.describe()}")
        number_kind = Continuous() if name == "error" else Integer(Range(low=0))
        try:
            number_kind.parse(threshold)
        except InvalidValue:
            expected = "a number" if name == "error" else "a non-negative integer"
            raise InvalidValue(f"value {text!r}: the part after '@' must be {expected}") from None
        return text

    def describe(self) -> str:
        return ", ".join(EVAL_METRICS) + ", error@<t>, ndcg@<n>, map@<n>"


def _parameters() -> tuple[Hyperparameter, ...]:
    hp = Hyperparameter
    return (
        hp("num_round", Integer(Range(low=1)), required=True),
        hp("num_class", Integer(Range(low=2))),
        hp("objective", Categorical(OBJECTIVES), default="reg:squarederror"),
        hp("eta", Continuous(UNIT), default=0.3, aliases=("learning_rate",)),
        hp("gamma", Continuous(AT_LEAST_0), default=0.0, aliases=("min_split_loss",)),
        hp("max_depth", Integer(AT_LEAST_0), default=6),
        hp("min_child_weight", Continuous(AT_LEAST_0), default=1.0),
        hp("max_delta_step", Continuous(AT_LEAST_0), default=0.0),
        hp("subsample", Continuous(UNIT_OPEN_LOW), default=1.0),
        hp("colsample_bytree", Continuous(UNIT_OPEN_LOW), default=1.0),
        hp("colsample_bylevel", Continuous(UNIT_OPEN_LOW), default=1.0),
        hp("colsample_bynode", Continuous(UNIT_OPEN_LOW), default=1.0),
        hp("lambda", Continuous(AT_LEAST_0), default=1.0, aliases=("reg_lambda",)),
        hp("alpha", Continuous(AT_LEAST_0), default=0.0, aliases=("reg_alpha",)),
        hp("booster", Categorical(("gbtree", "gblinear", "dart")), default="gbtree"),
        hp("tree_method", Categorical(("auto", "exact", "approx", "hist", "gpu_hist")), default="auto"),
        hp("sketch_eps", Continuous(Range(0, 1, low_open=True, high_open=True)), default=0.03),
        hp("scale_pos_weight", Continuous(Range(low=0, low_open=True)), default=1.0),
        hp("updater", ListOf(Categorical(TREE_UPDATERS + LINEAR_UPDATERS))),
        hp("dsplit", Categorical(("row", "col"))),
        hp("refresh_leaf", Integer(Range(0, 1)), default=1),
        hp("process_type", Categorical(("default", "update")), default="default"),
        hp("grow_policy", Categorical(("depthwise", "lossguide")), default="depthwise"),
        hp("max_leaves", Integer(AT_LEAST_0), default=0),
        hp("max_bin", Integer(AT_LEAST_0), default=256),
        hp("predictor", Categorical(("auto", "cpu_predictor", "gpu_predictor")), default="auto"),
        hp("monotone_constraints", ListOf(Integer(Range(-1, 1)))),
        hp("interaction_constraints", NestedIntegerLists(AT_LEAST_0)),
        hp("sample_type", Categorical(("uniform", "weighted")), default="uniform"),
        hp("normalize_type", Categorical(("tree", "forest")), default="tree"),
        hp("rate_drop", Continuous(UNIT), default=0.0),
        hp("one_drop", Integer(Range(0, 1)), default=0),
        hp("skip_drop", Continuous(UNIT), default=0.0),
        hp("lambda_bias", Continuous(UNIT), default=0.0),
        hp("tweedie_variance_power", Continuous(Range(1, 2, low_open=True, high_open=True)), default=1.5),
        # Documented as 0.5; XGBoost >= 2 estimates it from the labels when it is not given.
        hp("base_score", Continuous(AT_LEAST_0)),
        hp("eval_metric", ListOf(EvalMetric())),
        hp("early_stopping_rounds", Integer(Range(low=1))),
        hp("csv_weights", Integer(Range(0, 1)), default=0),
        hp("seed", Integer(INT32), default=0),
        hp("nthread", Integer(Range(low=1))),
        hp("verbosity", Integer(Range(0, 3)), default=1),
        hp("num_parallel_tree", Integer(Range(low=1)), default=1),
        hp("save_model_on_termination", TRUE_FALSE, default=False),
        hp("aft_loss_distribution", Categorical(("normal", "logistic", "extreme"))),
        hp("aft_loss_distribution_scale", Continuous(AT_LEAST_0)),
        hp("deterministic_histogram", TRUE_FALSE, default=True),
        hp("single_precision_histogram", TRUE_FALSE, default=False),
        hp("sampling_method", Categorical(("uniform", "gradient_based")), default="uniform"),
        hp("use_dask_gpu_training", TRUE_FALSE, default=False),
        hp("prob_buffer_row", Integer(Range(low=1, low_open=True))),
        hp("_kfold", Integer(Range(low=2))),
        hp("_num_cv_round", Integer(Range(low=1))),
    )


def _num_class_only_for_multiclass(values: Mapping[str, Any], given: frozenset[str]) -> str | None:
    if "num_class" in given and values["objective"] not in MULTICLASS_OBJECTIVES:
        return (
            f"Hyperparameter 'num_class' applies only to multi:softmax and multi:softprob, "
            f"but objective is {values['objective']}"
        )
    return None


def _updaters_fit(values: Mapping[str, Any], given: frozenset[str]) -> str | None:
    updaters: list[str] | None = values.get("updater")
    if updaters is None:
        return None
    if values["booster"] == "gblinear":
        if len(updaters) != 1 or updaters[0] not in LINEAR_UPDATERS:
            return "Hyperparameter 'updater': booster gblinear takes exactly one of shotgun, coord_descent"
    elif values["process_type"] == "update":
        if any(name not in ("refresh", "prune") for name in updaters):
            return "Hyperparameter 'updater': process_type update takes only refresh and prune"
    elif any(name in LINEAR_UPDATERS for name in updaters):
        booster = values["booster"]
        return f"Hyperparameter 'updater': shotgun and coord_descent need booster gblinear, not {booster}"
    elif sum(name in TREE_GROW_UPDATERS for name in updaters) > 1:
        return f"Hyperparameter 'updater': choose one tree grow updater of {', '.join(TREE_GROW_UPDATERS)}"
    return None


def _metric_objectives() -> dict[str, tuple[str, ...]]:
    """Metrics that only make sense for some objectives (XGBoost fails or reports nonsense otherwise)."""
    classification = ("binary:", "multi:", "reg:logistic")
    return {
        "auc": ("binary:", "multi:", "rank:", "reg:logistic"),
        "aucpr": ("binary:", "multi:", "rank:", "reg:logistic"),
        "merror": ("multi:",),
        "mlogloss": ("multi:",),
        "aft-nloglik": ("survival:aft",),
        "interval-regression-accuracy": ("survival:aft",),
        "cox-nloglik": ("survival:cox",),
        **{name: classification for name in CLASS_LABEL_METRICS},
        **{name: ("binary:", "reg:logistic") for name in POSITIVE_CLASS_METRICS},
    }


def _metrics_fit_objective(values: Mapping[str, Any], given: frozenset[str]) -> str | None:
    objective: str = values["objective"]
    tuning = values.get("_tuning_objective_metric", "")
    names = [*values.get("eval_metric", []), tuning.partition(":")[2]]
    rules = _metric_objectives()
    for name in names:
        allowed = rules.get(name)
        if allowed and not objective.startswith(allowed):
            return f"metric '{name}' does not apply to objective {objective}; it needs {' or '.join(allowed)}"
    return None


@functools.cache
def hyperparameter_spec() -> HyperparameterSpec:
    """The XGBoost spec (built once: the declarations are immutable)."""
    return HyperparameterSpec(
        _parameters(),
        (
            RequiredWhen("num_class", "objective", MULTICLASS_OBJECTIVES),
            Constraint(_num_class_only_for_multiclass),
            Constraint(_updaters_fit),
            Constraint(_metrics_fit_objective),
        ),
    )
