"""TrainingImage URIs of any region select the built-in algorithm; anything else is not one."""

from __future__ import annotations

import subprocess
import sys

import pytest

from opensage.algorithms.base import BuiltinAlgorithm
from opensage.algorithms.registry import algorithm_names, load_algorithm, resolve_training_image

DIGEST = "@sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    "image",
    [
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.5-1",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:3.0-5",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:0.90-2-cpu-py3",
        "811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:1",
        "811284229777.dkr.ecr.us-east-1.amazonaws.com/xgboost:latest",
        "685385470294.dkr.ecr.eu-west-1.amazonaws.com/xgboost:1",
        "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-xgboost:1.7-1",
        "450853457545.dkr.ecr.cn-north-1.amazonaws.com.cn/sagemaker-xgboost:1.7-1",
        "390948362332.dkr.ecr.cn-north-1.amazonaws.com.cn/xgboost:1",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1" + DIGEST,
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost" + DIGEST,
        " 683313688378.dkr.ecr.ap-southeast-2.amazonaws.com/sagemaker-xgboost:1.2-2 ",
    ],
)
def test_xgboost_images_of_any_region(image: str) -> None:
    assert resolve_training_image(image) == "xgboost"


@pytest.mark.parametrize(
    "image",
    [
        "382416733822.dkr.ecr.us-east-1.amazonaws.com/object2vec:1",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3",
        "763104351884.dkr.ecr.us-east-1.amazonaws.com/pytorch-training:2.3-cpu-py311",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:mytag",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com/xgboost:2",
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/my-team/xgboost:1",
        "docker.io/library/xgboost:1",
        "xgboost:1",
        "python:3.11",
        "my-registry.example.com/sagemaker-xgboost:1.7-1",
        "683313688378.dkr.ecr.us-east-1.amazonaws.com.evil.com/sagemaker-xgboost:1.7-1",
        "",
    ],
)
def test_other_images_are_not_builtin(image: str) -> None:
    assert resolve_training_image(image) is None


def test_names_and_loading() -> None:
    # Other algorithms join as they are written: check the ones this test knows, not the whole list.
    assert {"factorization-machines", "pca", "xgboost"} <= set(algorithm_names())
    algorithm = load_algorithm("xgboost")
    assert isinstance(algorithm, BuiltinAlgorithm)
    assert algorithm.name == "xgboost"
    assert set(algorithm.repositories) == {"sagemaker-xgboost", "xgboost"}
    with pytest.raises(
        ValueError, match=r"unknown built-in algorithm 'no-such-algorithm'; known: .*pca.*xgboost"
    ):
        load_algorithm("no-such-algorithm")


@pytest.mark.parametrize(
    ("name", "hyperparameters"),
    [
        ("xgboost", {"num_round": "3"}),
        ("pca", {"feature_dim": "4", "mini_batch_size": "9", "num_components": "2"}),
        ("factorization-machines", {"feature_dim": "4", "num_factors": "2", "predictor_type": "regressor"}),
    ],
)
def test_importing_the_registry_and_reading_metrics_loads_no_ml_library(
    name: str, hyperparameters: dict[str, str]
) -> None:
    script = (
        "import sys\n"
        "from opensage.algorithms.registry import load_algorithm\n"
        f"algorithm = load_algorithm({name!r})\n"
        "assert algorithm.metric_definitions()\n"
        f"algorithm.validate_hyperparameters({hyperparameters!r})\n"
        "libraries = ('xgboost', 'numpy', 'scipy', 'pyarrow', 'sklearn', 'google.protobuf')\n"
        "heavy = [m for m in libraries if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""
