"""Image URIs the SDK writes: SageMaker's account for the region, the repository and tag of each family."""

from __future__ import annotations

import pytest

from opensage.algorithms.registry import resolve_training_image
from opensage.runtime.frameworks import Framework, resolve_framework_image
from opensage.sdk._images import algorithm_image, framework_image


def test_xgboost_in_us_east_1_is_the_documented_uri() -> None:
    assert algorithm_image("xgboost", "us-east-1") == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )


@pytest.mark.parametrize(
    ("region", "account"),
    [("eu-west-1", "141502667606"), ("us-west-2", "246618743249"), ("ap-northeast-1", "354813040037")],
)
def test_each_region_gets_sagemakers_account_there(region: str, account: str) -> None:
    assert algorithm_image("xgboost", region) == (
        f"{account}.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1"
    )


def test_china_regions_use_their_own_domain() -> None:
    assert framework_image("sklearn", "cn-north-1").startswith(
        "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/"
    )


def test_an_unlisted_region_keeps_the_region_and_borrows_an_account() -> None:
    assert algorithm_image("xgboost", "xx-test-1") == (
        "683313688378.dkr.ecr.xx-test-1.amazonaws.com/sagemaker-xgboost:1.7-1"
    )


def test_scikit_learn_tags_carry_the_cpu_py3_suffix_and_a_chosen_version() -> None:
    assert framework_image("sklearn", "us-east-1") == (
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"
    )
    assert framework_image("scikit-learn", "us-east-1", "1.4-2").endswith(
        "sagemaker-scikit-learn:1.4-2-cpu-py3"
    )
    assert algorithm_image("XGBoost", "us-east-1", "1.5-1").endswith("sagemaker-xgboost:1.5-1")


def test_unknown_names_list_what_is_known() -> None:
    with pytest.raises(ValueError, match=r"Unknown built-in algorithm 'kmeans'; the SDK knows xgboost"):
        algorithm_image("kmeans", "us-east-1")
    with pytest.raises(ValueError, match=r"Unknown framework 'jax'; the SDK knows sklearn, xgboost"):
        framework_image("jax", "us-east-1")


@pytest.mark.parametrize("region", ["us-east-1", "eu-central-1", "cn-northwest-1"])
def test_the_server_recognises_every_uri_the_sdk_writes(region: str) -> None:
    assert resolve_training_image(algorithm_image("xgboost", region)) == "xgboost"
    found = resolve_framework_image(framework_image("sklearn", region))
    assert found is not None and found.framework is Framework.SKLEARN
