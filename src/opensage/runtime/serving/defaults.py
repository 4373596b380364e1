"""The functions a framework's inference toolkit uses where the user's script defines none.

- scikit-learn: no ``model_fn`` (the toolkit requires one); ``input_fn`` decodes JSON, CSV
  and NPY (text as float32); ``predict_fn`` is ``model.predict(data)``; ``output_fn`` encodes
  to the Accept type (JSON, CSV, NPY).
- XGBoost: ``model_fn`` loads ``xgboost-model`` (a Booster saved by XGBoost or pickled);
  SageMaker's toolkit has none and requires one, so this only adds. ``input_fn`` reads CSV,
  LIBSVM and RecordIO-protobuf (and JSON as the built-in algorithm does) into a DMatrix;
  ``predict_fn`` is ``model.predict(data, validate_features=False)`` for a Booster.
- PyTorch: ``model_fn`` loads ``model.pt``, else the only ``.pt``/``.pth`` file, with
  ``torch.jit.load`` (TorchScript), on the GPU when there is one; ``input_fn`` decodes to a
  tensor (float32 for JSON and CSV); ``predict_fn`` calls ``model.eval()`` and
  ``model(data)`` under ``torch.no_grad()``; ``output_fn`` turns tensors into arrays first.

Frameworks are imported inside the functions: a model server loads only the one it serves.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from opensage.runtime.serving import codecs

MODEL_FN_EXAMPLE = "def model_fn(model_dir): return joblib.load(os.path.join(model_dir, 'model.joblib'))"


class DefaultModelError(Exception):
    """The default ``model_fn`` cannot load a model; the message says what it looked for."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Defaults:
    framework: str
    display: str
    #: None where the framework's toolkit has no default and the script must define model_fn.
    model_fn: Callable[[str], Any] | None
    input_fn: Callable[[Any, str | None], Any]
    predict_fn: Callable[[Any, Any], Any]
    output_fn: Callable[[Any, str], tuple[bytes, str]]


def defaults_for(framework: str) -> Defaults:
    if framework == "sklearn":
        return Defaults(framework, "scikit-learn", None, codecs.decode_floats, _call_predict, codecs.encode)
    if framework == "xgboost":
        return Defaults(framework, "XGBoost", _load_xgboost, _xgboost_input, _xgboost_predict, codecs.encode)
    if framework == "pytorch":
        return Defaults(
            framework, "PyTorch", _load_torchscript, _tensor_input, _torch_predict, _tensor_output
        )
    raise ValueError(f"no inference defaults for the framework {framework!r}")


def _call_predict(data: Any, model: Any) -> Any:
    return model.predict(data)


# --- XGBoost -------------------------------------------------------------------------------------


XGBOOST_MODEL_FILE = "xgboost-model"


def _load_xgboost(model_dir: str) -> Any:
    path = Path(model_dir) / XGBOOST_MODEL_FILE
    if not path.is_file():
        raise DefaultModelError(
            f"The default model_fn loads {XGBOOST_MODEL_FILE} from the model directory, and there is none; "
            "save the model under that name or define model_fn(model_dir) in your inference script"
        )
    from opensage.algorithms.xgboost.model_files import ModelFileError, load_booster

    try:
        return load_booster(path).booster
    except ModelFileError as exc:
        raise DefaultModelError(str(exc)) from exc


def _xgboost_input(body: Any, content_type: str | None) -> Any:
    import xgboost

    from opensage.algorithms.xgboost import decoders

    requested = decoders.request_media_type(content_type)
    raw = body.encode("utf-8") if isinstance(body, str) else body
    return xgboost.DMatrix(decoders.decode(raw, requested))


def _xgboost_predict(data: Any, model: Any) -> Any:
    import xgboost

    if isinstance(model, xgboost.Booster):
        return model.predict(data, validate_features=False)
    return model.predict(data)


# --- PyTorch -------------------------------------------------------------------------------------


TORCH_MODEL_FILE = "model.pt"


def _device() -> Any:
    import torch

    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def torchscript_file(model_dir: Path) -> Path:
    """``model.pt``, else the one ``.pt`` or ``.pth`` file of the model directory."""
    preferred = model_dir / TORCH_MODEL_FILE
    if preferred.is_file():
        return preferred
    found = sorted(p for p in model_dir.iterdir() if p.is_file() and p.suffix in (".pt", ".pth"))
    if len(found) != 1:
        names = ", ".join(p.name for p in found) or "none"
        raise DefaultModelError(
            f"The default model_fn loads {TORCH_MODEL_FILE} or the one .pt/.pth file of the model directory "
            f"(found: {names}); keep one, or define model_fn(model_dir) in your inference script"
        )
    return found[0]


def _load_torchscript(model_dir: str) -> Any:
    import torch

    path = torchscript_file(Path(model_dir))
    try:
        model = torch.jit.load(str(path), map_location=_device())  # type: ignore[no-untyped-call]
    except RuntimeError as exc:
        raise DefaultModelError(
            f"The default model_fn could not load {path.name} with torch.jit.load: save the model with "
            "TorchScript (torch.jit.save(torch.jit.script(model), ...)) or define model_fn(model_dir) "
            "in your inference script"
        ) from exc
    return model


def _tensor_input(body: Any, content_type: str | None) -> Any:
    import torch

    return torch.from_numpy(codecs.decode_floats(body, content_type)).to(_device())


def _torch_predict(data: Any, model: Any) -> Any:
    import torch

    device = _device()
    with torch.no_grad():
        model = model.to(device)
        model.eval()
        return model(data.to(device))


def _tensor_output(prediction: Any, accept: str) -> tuple[bytes, str]:
    import torch

    if isinstance(prediction, torch.Tensor):
        prediction = prediction.detach().cpu().numpy()
    return codecs.encode(prediction, accept)
