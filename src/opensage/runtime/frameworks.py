"""SageMaker's framework images (scikit-learn, XGBoost, PyTorch, ...) and what runs in their place.

A framework image on SageMaker is a container with the framework and SageMaker's training
or inference toolkit. Here the user's code runs on the Python opensage runs on, with the
framework installed in it: the image selects the framework and its defaults (which model
server functions, which model file names), and the version in its tag is reported, not
emulated. A framework that is not installed is refused with the pip command that adds it.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from enum import StrEnum

from opensage.images import parse_ecr_image


class Framework(StrEnum):
    SKLEARN = "sklearn"
    XGBOOST = "xgboost"
    PYTORCH = "pytorch"
    TENSORFLOW = "tensorflow"


@dataclass(frozen=True)
class FrameworkInfo:
    framework: Framework
    #: The module that must import for the framework's code to run.
    module: str
    #: How to add it when it is missing.
    install: str
    display: str


_INFO = {
    Framework.SKLEARN: FrameworkInfo(
        Framework.SKLEARN, "sklearn", "pip install scikit-learn", "scikit-learn"
    ),
    Framework.XGBOOST: FrameworkInfo(Framework.XGBOOST, "xgboost", "pip install xgboost-cpu", "XGBoost"),
    Framework.PYTORCH: FrameworkInfo(Framework.PYTORCH, "torch", "pip install 'opensage[torch]'", "PyTorch"),
    Framework.TENSORFLOW: FrameworkInfo(
        Framework.TENSORFLOW, "tensorflow", "pip install tensorflow", "TensorFlow"
    ),
}

# ECR repositories of SageMaker's framework images (training, inference and processing).
_REPOSITORIES = {
    "sagemaker-scikit-learn": Framework.SKLEARN,
    "sagemaker-xgboost": Framework.XGBOOST,
    "pytorch-training": Framework.PYTORCH,
    "pytorch-inference": Framework.PYTORCH,
    "tensorflow-training": Framework.TENSORFLOW,
    "tensorflow-inference": Framework.TENSORFLOW,
}


@dataclass(frozen=True)
class FrameworkImage:
    framework: Framework
    #: The image's tag, e.g. "1.2-1-cpu-py3"; informational.
    tag: str | None
    image: str

    @property
    def info(self) -> FrameworkInfo:
        return _INFO[self.framework]


def resolve_framework_image(image: str) -> FrameworkImage | None:
    """The framework a SageMaker framework image URI (any region) names, else None."""
    parsed = parse_ecr_image(image)
    if parsed is None:
        return None
    framework = _REPOSITORIES.get(parsed.repository)
    return None if framework is None else FrameworkImage(framework, parsed.tag, image)


def framework_info(framework: Framework) -> FrameworkInfo:
    return _INFO[framework]


def missing_framework(framework: Framework) -> str | None:
    """Why the framework's code cannot run here (not installed), or None when it can."""
    info = _INFO[framework]
    if importlib.util.find_spec(info.module) is not None:
        return None
    return (
        f"The {info.display} framework is not installed in opensage's Python environment; "
        f"add it with `{info.install}` and try again"
    )
