"""``ChoiceList``: K-Means' and RCF's eval_metrics, as the SDK sends them (JSON) or typed by hand."""

from __future__ import annotations

import pytest

from opensage.algorithms.hyperparameters import ChoiceList, Hyperparameter, HyperparameterSpec
from opensage.errors import AlgorithmClientError

SPEC = HyperparameterSpec((Hyperparameter("eval_metrics", ChoiceList(("msd", "ssd")), default=["msd"]),))


@pytest.mark.parametrize("text", ['["msd", "ssd"]', "[msd,ssd]", "msd, ssd", "['msd','ssd']"])
def test_spellings(text: str) -> None:
    assert SPEC.validate({"eval_metrics": text}) == {"eval_metrics": ["msd", "ssd"]}


def test_default_and_refusal_names_the_parameter_and_the_item() -> None:
    assert SPEC.validate({}) == {"eval_metrics": ["msd"]}
    with pytest.raises(AlgorithmClientError, match=r"'eval_metrics'.*'mse'.*msd, ssd"):
        SPEC.validate({"eval_metrics": '["mse"]'})
    with pytest.raises(AlgorithmClientError, match="eval_metrics"):
        SPEC.validate({"eval_metrics": "[]"})
