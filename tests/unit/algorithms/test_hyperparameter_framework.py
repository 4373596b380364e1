"""The declarative hyperparameter framework: kinds, ranges, aliases, defaults, rules and messages."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from opensage.algorithms.hyperparameters import (
    AUTO,
    TUNING_OBJECTIVE_METRIC,
    Boolean,
    Categorical,
    Constraint,
    Continuous,
    Hyperparameter,
    HyperparameterSpec,
    Integer,
    ListOf,
    NestedIntegerLists,
    Range,
    RequiredWhen,
    String,
)
from opensage.errors import AlgorithmClientError


def _no_depth_with_linear(values: Mapping[str, Any], given: frozenset[str]) -> str | None:
    if values["booster"] == "linear" and "max_depth" in given:
        return "max_depth does not apply to booster linear"
    return None


SPEC = HyperparameterSpec(
    (
        Hyperparameter("num_round", Integer(Range(low=1)), required=True),
        Hyperparameter("max_depth", Integer(Range(low=0)), default=6),
        Hyperparameter("eta", Continuous(Range(0, 1)), default=0.3, aliases=("learning_rate",)),
        Hyperparameter("subsample", Continuous(Range(0, 1, low_open=True))),
        Hyperparameter(
            "objective", Categorical(("reg:squarederror", "multi:softmax")), default="reg:squarederror"
        ),
        Hyperparameter("num_class", Integer(Range(low=2))),
        Hyperparameter("booster", Categorical(("tree", "linear")), default="tree"),
        Hyperparameter("normalize", Boolean(), default=False),
        Hyperparameter("strict", Boolean(true_values=("true",), false_values=("false",))),
        Hyperparameter("metrics", ListOf(Categorical(("rmse", "mae")))),
        Hyperparameter("constraints", ListOf(Integer(Range(-1, 1)))),
        Hyperparameter("groups", NestedIntegerLists(Range(low=0))),
        Hyperparameter("mini_batch_size", Integer(Range(low=1)), allow_auto=True, default=AUTO),
        Hyperparameter("name", String(pattern=r"[a-z]+", pattern_description="lower-case letters")),
    ),
    (
        RequiredWhen("num_class", "objective", ("multi:softmax",)),
        Constraint(_no_depth_with_linear),
    ),
)


def error_of(raw: dict[str, str]) -> str:
    with pytest.raises(AlgorithmClientError) as caught:
        SPEC.validate(raw)
    return str(caught.value)


def test_coerces_strings_and_fills_defaults() -> None:
    values = SPEC.validate({"num_round": "10", "eta": "0.1", "normalize": "True", "metrics": "rmse, mae"})
    assert values == {
        "num_round": 10,
        "eta": 0.1,
        "normalize": True,
        "metrics": ["rmse", "mae"],
        "max_depth": 6,
        "objective": "reg:squarederror",
        "booster": "tree",
        "mini_batch_size": "auto",
    }


@pytest.mark.parametrize(("text", "value"), [("7", 7), (" 7 ", 7), ("7.0", 7), ("1e2", 100), ("+3", 3)])
def test_integers_accept_integral_spellings(text: str, value: int) -> None:
    assert SPEC.validate({"num_round": text})["num_round"] == value


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"num_round": "abc"}, "Hyperparameter 'num_round': value 'abc' is not an integer"),
        ({"num_round": "2.5"}, "Hyperparameter 'num_round': value '2.5' is not an integer"),
        ({"num_round": ""}, "Hyperparameter 'num_round': value '' is not an integer"),
        ({"num_round": "0"}, "Hyperparameter 'num_round': must be >= 1, got 0"),
        ({"num_round": "1", "eta": "1.5"}, "Hyperparameter 'eta': must be in [0, 1], got 1.5"),
        ({"num_round": "1", "eta": "nan"}, "Hyperparameter 'eta': value 'nan' is not a finite number"),
        ({"num_round": "1", "eta": "fast"}, "Hyperparameter 'eta': value 'fast' is not a number"),
        ({"num_round": "1", "subsample": "0"}, "Hyperparameter 'subsample': must be in (0, 1], got 0"),
        (
            {"num_round": "1", "learning_rate": "-1"},
            "Hyperparameter 'learning_rate': must be in [0, 1], got -1",
        ),
        (
            {"num_round": "1", "objective": "reg:linear2"},
            "Hyperparameter 'objective': value 'reg:linear2' is not one of: reg:squarederror, multi:softmax",
        ),
        (
            {"num_round": "1", "normalize": "yes"},
            "Hyperparameter 'normalize': value 'yes' is not a boolean; use true or false",
        ),
        (
            {"num_round": "1", "strict": "True"},
            "Hyperparameter 'strict': value 'True' is not a boolean; use true or false",
        ),
        (
            {"num_round": "1", "metrics": "rmse,auc"},
            "Hyperparameter 'metrics': in 'rmse,auc': value 'auc' is not one of: rmse, mae",
        ),
        (
            {"num_round": "1", "metrics": "rmse,,mae"},
            "Hyperparameter 'metrics': value 'rmse,,mae' has an empty item",
        ),
        (
            {"num_round": "1", "constraints": "(1,2)"},
            "Hyperparameter 'constraints': in '(1,2)': must be in [-1, 1], got 2",
        ),
        ({"num_round": "1", "groups": "[[0,1],[2,-1]]"}, "Hyperparameter 'groups': must be >= 0, got -1"),
        (
            {"num_round": "1", "groups": "[0,1]"},
            "Hyperparameter 'groups': value '[0,1]' is not a list of lists",
        ),
        (
            {"num_round": "1", "groups": "[[0.5]]"},
            "Hyperparameter 'groups': value '[[0.5]]' holds 0.5, which is not an integer",
        ),
        ({"num_round": "1", "mini_batch_size": "0"}, "Hyperparameter 'mini_batch_size': must be >= 1, got 0"),
        ({"num_round": "1", "name": "Bob"}, "Hyperparameter 'name': value 'Bob' is not lower-case letters"),
    ],
)
def test_invalid_values_name_the_parameter_and_what_is_valid(raw: dict[str, str], message: str) -> None:
    assert error_of(raw).startswith(message)


def test_booleans_take_every_documented_spelling() -> None:
    for text, value in [
        ("true", True),
        ("True", True),
        ("1", True),
        ("false", False),
        ("False", False),
        ("0", False),
    ]:
        assert SPEC.validate({"num_round": "1", "normalize": text})["normalize"] is value


def test_lists_take_brackets_and_auto_is_kept() -> None:
    values = SPEC.validate({"num_round": "1", "constraints": "(1, -1, 0)", "mini_batch_size": "auto"})
    assert values["constraints"] == [1, -1, 0]
    assert values["mini_batch_size"] == "auto"
    assert SPEC.validate({"num_round": "1", "groups": "[[0, 1], [2]]"})["groups"] == [[0, 1], [2]]


def test_aliases_map_to_the_canonical_name() -> None:
    assert SPEC.validate({"num_round": "1", "learning_rate": "0.5"})["eta"] == 0.5
    assert SPEC.canonical_name("learning_rate") == "eta"
    assert SPEC.canonical_name("nope") is None
    assert SPEC.given({"learning_rate": "0.5", "num_round": "2", TUNING_OBJECTIVE_METRIC: "x"}) == {
        "eta",
        "num_round",
    }


def test_a_parameter_given_twice_through_an_alias() -> None:
    assert "hyperparameter 'eta' given twice, as 'eta' and 'learning_rate'" in error_of(
        {"num_round": "1", "eta": "0.1", "learning_rate": "0.2"}
    )


def test_unknown_names_suggest_the_closest_known_one() -> None:
    assert (
        error_of({"num_round": "1", "max_dept": "3"})
        == "unknown hyperparameter 'max_dept'; did you mean 'max_depth'?"
    )
    assert error_of({"num_round": "1", "learnin_rate": "3"}).endswith("did you mean 'learning_rate'?")
    assert error_of({"num_round": "1", "zzz": "3"}) == "unknown hyperparameter 'zzz'"


def test_missing_required_and_required_by_dependency() -> None:
    assert error_of({}) == "missing required hyperparameter 'num_round'"
    assert error_of({"num_round": "1", "objective": "multi:softmax"}) == (
        "missing required hyperparameter 'num_class': required when objective is multi:softmax"
    )
    assert SPEC.validate({"num_round": "1", "objective": "multi:softmax", "num_class": "3"})["num_class"] == 3


def test_constraints_see_values_and_what_was_given() -> None:
    assert error_of({"num_round": "1", "booster": "linear", "max_depth": "2"}) == (
        "max_depth does not apply to booster linear"
    )
    # The default max_depth is not "given", so the rule lets it pass.
    assert SPEC.validate({"num_round": "1", "booster": "linear"})["max_depth"] == 6


def test_every_problem_is_reported_at_once() -> None:
    message = error_of({"max_dept": "3", "eta": "2"})
    assert message.split("; ")[0] == "unknown hyperparameter 'max_dept'"
    assert "Hyperparameter 'eta': must be in [0, 1], got 2" in message
    assert "missing required hyperparameter 'num_round'" in message


def test_the_tuning_objective_passes_through_as_a_string() -> None:
    values = SPEC.validate({"num_round": "1", TUNING_OBJECTIVE_METRIC: "validation:rmse"})
    assert values[TUNING_OBJECTIVE_METRIC] == "validation:rmse"


def test_non_string_values_are_spelled_first() -> None:
    values = SPEC.validate({"num_round": 5, "normalize": True, "eta": 0.25})
    assert (values["num_round"], values["normalize"], values["eta"]) == (5, True, 0.25)


def test_ranges_describe_themselves() -> None:
    assert str(Range(0, 1)) == "in [0, 1]"
    assert str(Range(1, 2, low_open=True, high_open=True)) == "in (1, 2)"
    assert str(Range(low=0, low_open=True)) == "> 0"
    assert str(Range(high=5)) == "<= 5"
    assert str(Range()) == "any number"
    assert Integer(Range(low=1)).describe() == "an integer >= 1"
    assert SPEC.parameter("mini_batch_size").describe() == "an integer >= 1 or auto"


def test_declaring_a_name_twice_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        HyperparameterSpec(
            (
                Hyperparameter("eta", Continuous()),
                Hyperparameter("learning_rate", Continuous(), aliases=("eta",)),
            )
        )
