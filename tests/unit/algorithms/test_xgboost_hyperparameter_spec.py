"""XGBoost's documented hyperparameters: ranges, defaults, aliases and the rules between them."""

from __future__ import annotations

import pytest

from opensage.algorithms.xgboost import XGBoostAlgorithm
from opensage.algorithms.xgboost.hyperparameters import OBJECTIVES, hyperparameter_spec
from opensage.algorithms.xgboost.params import native_params
from opensage.errors import AlgorithmClientError


def validate(**raw: str) -> dict[str, object]:
    return XGBoostAlgorithm().validate_hyperparameters(raw)


def error_of(**raw: str) -> str:
    with pytest.raises(AlgorithmClientError) as caught:
        validate(**raw)
    return str(caught.value)


def test_documented_defaults() -> None:
    values = validate(num_round="10")
    expected = {
        "objective": "reg:squarederror",
        "eta": 0.3,
        "gamma": 0.0,
        "max_depth": 6,
        "min_child_weight": 1.0,
        "subsample": 1.0,
        "lambda": 1.0,
        "alpha": 0.0,
        "booster": "gbtree",
        "tree_method": "auto",
        "csv_weights": 0,
        "seed": 0,
        "verbosity": 1,
        "save_model_on_termination": False,
    }
    assert {name: values[name] for name in expected} == expected


def test_num_round_is_required() -> None:
    assert error_of() == "missing required hyperparameter 'num_round'"


@pytest.mark.parametrize("objective", ["multi:softmax", "multi:softprob"])
def test_num_class_is_required_for_multiclass(objective: str) -> None:
    assert error_of(num_round="3", objective=objective) == (
        "missing required hyperparameter 'num_class': required when objective is multi:softmax or "
        "multi:softprob"
    )
    assert validate(num_round="3", objective=objective, num_class="3")["num_class"] == 3


def test_num_class_without_a_multiclass_objective() -> None:
    assert (
        "'num_class' applies only to multi:softmax and multi:softprob, but objective is binary:logistic"
        in (error_of(num_round="3", objective="binary:logistic", num_class="2"))
    )
    assert "must be >= 2, got 1" in error_of(num_round="3", objective="multi:softmax", num_class="1")


def test_an_invalid_objective_lists_the_valid_ones() -> None:
    message = error_of(num_round="3", objective="binary:logit")
    assert message.startswith(
        "Hyperparameter 'objective': value 'binary:logit' is not one of: binary:logistic, "
    )
    assert all(objective in message for objective in OBJECTIVES)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("eta", "1.5", "must be in [0, 1], got 1.5"),
        ("learning_rate", "-0.1", "must be in [0, 1], got -0.1"),
        ("max_depth", "abc", "value 'abc' is not an integer"),
        ("subsample", "0", "must be in (0, 1], got 0"),
        ("colsample_bytree", "1.01", "must be in (0, 1], got 1.01"),
        ("scale_pos_weight", "0", "must be > 0, got 0"),
        ("tweedie_variance_power", "2", "must be in (1, 2), got 2"),
        ("sketch_eps", "1", "must be in (0, 1), got 1"),
        ("csv_weights", "2", "must be in [0, 1], got 2"),
        ("seed", "2147483648", "must be in [-2147483648, 2147483647], got 2147483648"),
        ("verbosity", "4", "must be in [0, 3], got 4"),
        ("tree_method", "gpu", "value 'gpu' is not one of: auto, exact, approx, hist, gpu_hist"),
        ("save_model_on_termination", "True", "value 'True' is not a boolean; use true or false"),
        ("early_stopping_rounds", "0", "must be >= 1, got 0"),
        ("monotone_constraints", "(1,2)", "in '(1,2)': must be in [-1, 1], got 2"),
    ],
)
def test_ranges(name: str, value: str, message: str) -> None:
    assert error_of(num_round="3", **{name: value}) == f"Hyperparameter '{name}': {message}"


def test_aliases() -> None:
    values = validate(num_round="3", learning_rate="0.1", min_split_loss="1", reg_lambda="2", reg_alpha="0.5")
    assert (values["eta"], values["gamma"], values["lambda"], values["alpha"]) == (0.1, 1.0, 2.0, 0.5)


def test_unknown_names_get_a_suggestion() -> None:
    assert (
        error_of(num_round="3", max_dept="3")
        == "unknown hyperparameter 'max_dept'; did you mean 'max_depth'?"
    )


@pytest.mark.parametrize(
    ("eval_metric", "parsed"),
    [
        ("auc", ["auc"]),
        ("logloss,auc,error@0.7", ["logloss", "auc", "error@0.7"]),
        ("ndcg@5,map@10", ["ndcg@5", "map@10"]),
        ("accuracy, f1", ["accuracy", "f1"]),
    ],
)
def test_eval_metric_lists(eval_metric: str, parsed: list[str]) -> None:
    objective = "rank:pairwise" if "ndcg" in eval_metric else "binary:logistic"
    assert validate(num_round="3", objective=objective, eval_metric=eval_metric)["eval_metric"] == parsed


@pytest.mark.parametrize(
    ("eval_metric", "message"),
    [
        ("aucc", "value 'aucc' is not a supported metric"),
        ("rmse@3", "value 'rmse@3' is not a supported metric"),
        ("error@high", "value 'error@high': the part after '@' must be a number"),
        ("ndcg@0.5", "value 'ndcg@0.5': the part after '@' must be a non-negative integer"),
    ],
)
def test_bad_eval_metrics(eval_metric: str, message: str) -> None:
    assert message in error_of(num_round="3", objective="binary:logistic", eval_metric=eval_metric)


@pytest.mark.parametrize(
    ("objective", "eval_metric", "message"),
    [
        ("reg:squarederror", "auc", "metric 'auc' does not apply to objective reg:squarederror"),
        ("binary:logistic", "mlogloss", "metric 'mlogloss' does not apply to objective binary:logistic"),
        ("reg:squarederror", "accuracy", "metric 'accuracy' does not apply to objective reg:squarederror"),
        ("reg:gamma", "aft-nloglik", "it needs survival:aft"),
    ],
)
def test_metrics_must_fit_the_objective(objective: str, eval_metric: str, message: str) -> None:
    assert message in error_of(num_round="3", objective=objective, eval_metric=eval_metric)


def test_f1_binary_needs_a_binary_objective() -> None:
    assert "metric 'f1_binary' does not apply to objective multi:softmax" in error_of(
        num_round="3", objective="multi:softmax", num_class="3", eval_metric="f1_binary"
    )


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"booster": "gblinear", "updater": "grow_colmaker"},
            "booster gblinear takes exactly one of shotgun",
        ),
        ({"updater": "shotgun"}, "shotgun and coord_descent need booster gblinear, not gbtree"),
        ({"updater": "grow_colmaker,grow_histmaker"}, "choose one tree grow updater"),
        (
            {"process_type": "update", "updater": "grow_colmaker"},
            "process_type update takes only refresh and prune",
        ),
        ({"updater": "distcol"}, "value 'distcol' is not one of: grow_colmaker"),
    ],
)
def test_updater_rules(extra: dict[str, str], message: str) -> None:
    assert message in error_of(num_round="3", **extra)


def test_the_tuning_objective_must_be_an_xgboost_metric() -> None:
    assert validate(num_round="3", objective="binary:logistic", _tuning_objective_metric="validation:auc")
    message = error_of(num_round="3", _tuning_objective_metric="validation:accuracyy")
    assert "'_tuning_objective_metric': 'validation:accuracyy' is not an XGBoost metric" in message
    assert "metric 'auc' does not apply to objective reg:squarederror" in error_of(
        num_round="3", _tuning_objective_metric="validation:auc"
    )


def test_kfold_is_not_supported_yet() -> None:
    assert "k-fold cross-validation is not supported yet" in error_of(num_round="3", _kfold="5")


def native(distributed: bool = False, **raw: str) -> dict[str, object]:
    spec = hyperparameter_spec()
    values = spec.validate(raw)
    return native_params(values, spec.given(raw), num_cpus=4, distributed=distributed, eval_metrics=()).params


def test_only_what_the_job_set_reaches_xgboost() -> None:
    assert native(num_round="3") == {"objective": "reg:squarederror", "seed": 0, "nthread": 4}
    assert native(num_round="3", learning_rate="0.1", nthread="2", max_depth="3") == {
        "eta": 0.1,
        "max_depth": 3,
        "objective": "reg:squarederror",
        "seed": 0,
        "nthread": 2,
    }


def test_sagemaker_spellings_become_xgboost_3_ones() -> None:
    params = native(
        num_round="3",
        objective="reg:linear",
        tree_method="gpu_hist",
        predictor="gpu_predictor",
        sketch_eps="0.1",
        monotone_constraints="(1,-1)",
        interaction_constraints="[[0,1],[2]]",
        updater="grow_quantile_histmaker,prune",
    )
    assert params["objective"] == "reg:squarederror"
    assert params["tree_method"] == "hist"
    assert "predictor" not in params and "sketch_eps" not in params
    assert params["monotone_constraints"] == "(1,-1)"
    assert params["interaction_constraints"] == "[[0, 1], [2]]"
    assert params["updater"] == "grow_quantile_histmaker,prune"


def test_distributed_training_cannot_use_the_exact_method() -> None:
    assert native(distributed=True, num_round="3", tree_method="exact")["tree_method"] == "hist"
    assert native(distributed=False, num_round="3", tree_method="exact")["tree_method"] == "exact"
    with pytest.raises(
        AlgorithmClientError, match=r"grow_colmaker \(the exact method\) cannot train across hosts"
    ):
        native(distributed=True, num_round="3", updater="grow_colmaker,prune")


def test_process_type_update_needs_a_model_we_cannot_take() -> None:
    with pytest.raises(AlgorithmClientError, match="process_type': update refreshes an existing model"):
        native(num_round="3", process_type="update", updater="refresh")
