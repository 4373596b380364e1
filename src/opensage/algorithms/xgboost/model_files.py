"""Find and load the boosters of an XGBoost model directory, as SageMaker's XGBoost container does.

Training writes ``xgboost-model`` (XGBoost's UBJSON); k-fold cross-validation writes one
``xgboost-model-<fold>`` per fold, which are served together as an ensemble. Older SageMaker
versions pickled the Booster: such files are read with an unpickler that builds nothing but a
Booster, so a model file cannot run code. Imported only when a model is loaded (xgboost).
"""

from __future__ import annotations

import io
import json
import pickle
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xgboost
from xgboost.core import XGBoostError

from opensage.algorithms.xgboost.errors import clean_xgboost_message
from opensage.algorithms.xgboost.training import MODEL_FILE

_FOLD_FILE = re.compile(rf"{re.escape(MODEL_FILE)}-(\d+)")
# All a pickled Booster refers to: the class and the bytearray holding the model.
_PICKLE_GLOBALS = {("xgboost.core", "Booster"), ("builtins", "bytearray")}


class ModelFileError(Exception):
    """The model directory holds no loadable model; the message says what was found and why."""


@dataclass(frozen=True)
class LoadedBooster:
    """One booster and the rounds to predict with: ``(0, best_iteration + 1)`` after early stopping."""

    booster: xgboost.Booster
    iteration_range: tuple[int, int]
    objective: str
    num_class: int
    num_features: int


def model_paths(model_dir: Path, *, ensemble: bool) -> list[Path]:
    """The files to serve: ``xgboost-model`` and its folds (every one when ``ensemble``, else the first).

    A directory without such names (a model trained elsewhere) serves its top-level files.
    """
    if not model_dir.is_dir():
        raise ModelFileError(f"The model directory {model_dir} does not exist")
    files = sorted(
        (path for path in model_dir.iterdir() if path.is_file() and not path.name.startswith(".")),
        key=_serving_order,
    )
    named = [path for path in files if path.name == MODEL_FILE or _FOLD_FILE.fullmatch(path.name)]
    chosen = named or files
    if not chosen:
        raise ModelFileError(f"The model archive holds no model file; expected {MODEL_FILE}")
    return chosen if ensemble else chosen[:1]


def _serving_order(path: Path) -> tuple[int, int, str]:
    if path.name == MODEL_FILE:
        return (0, 0, "")
    fold = _FOLD_FILE.fullmatch(path.name)
    return (1, int(fold.group(1)), "") if fold else (2, 0, path.name)


def load_booster(path: Path) -> LoadedBooster:
    """Load one model file: XGBoost's formats (UBJSON, JSON, legacy binary), else a pickled Booster."""
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise ModelFileError(f"Cannot read the model file {path.name}: {exc.strerror}") from exc
    booster = xgboost.Booster()
    try:
        # From memory, XGBoost tells its formats apart by content, not by the file's (absent) extension.
        booster.load_model(bytearray(content))
    except XGBoostError as native_error:
        booster = _unpickle(content, path.name, clean_xgboost_message(str(native_error)))
    config = json.loads(booster.save_config())
    learner = config["learner"]
    best = booster.attr("best_iteration")
    return LoadedBooster(
        booster=booster,
        iteration_range=(0, int(best) + 1) if best is not None else (0, 0),
        objective=learner["objective"]["name"],
        num_class=int(learner["learner_model_param"].get("num_class", "0")),
        num_features=booster.num_features(),
    )


class _BoosterUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in _PICKLE_GLOBALS:
            raise pickle.UnpicklingError(f"a model pickle may hold a Booster only, not {module}.{name}")
        return super().find_class(module, name)


def _unpickle(content: bytes, name: str, native_error: str) -> xgboost.Booster:
    try:
        loaded = _BoosterUnpickler(io.BytesIO(content)).load()
    except Exception as exc:  # unpickling fails in many ways; every one means "not a model"
        raise ModelFileError(
            f"The model file {name} is neither an XGBoost model ({native_error}) nor a pickled "
            f"Booster ({type(exc).__name__}: {exc})"
        ) from exc
    if not isinstance(loaded, xgboost.Booster):
        raise ModelFileError(f"The model file {name} holds a pickled {type(loaded).__name__}, not a Booster")
    return loaded
