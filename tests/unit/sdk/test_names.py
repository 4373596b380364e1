"""Generated resource names: unique, within SageMaker's pattern and length."""

from __future__ import annotations

import re

from opensage.sdk._names import MAX_LENGTH, base_of, unique_name

SAGEMAKER_NAME = re.compile(r"^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$")


def test_names_are_valid_and_distinct() -> None:
    names = {unique_name("xgboost") for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert SAGEMAKER_NAME.match(name) and name.startswith("xgboost-")


def test_long_or_odd_bases_are_cleaned_and_cut() -> None:
    name = unique_name("my_training script.py " + "x" * 100)
    assert len(name) <= MAX_LENGTH
    assert SAGEMAKER_NAME.match(name)
    assert name.startswith("my-training-script-py-x")
    assert SAGEMAKER_NAME.match(unique_name("___"))


def test_a_name_made_from_a_made_name_drops_the_old_stamp() -> None:
    job = unique_name("xgboost")
    assert base_of(job) == "xgboost"
    model = unique_name(job)
    assert model.startswith("xgboost-") and model.count("-") == job.count("-")
