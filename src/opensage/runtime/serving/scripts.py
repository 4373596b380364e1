"""Serve a user's inference script as SageMaker's framework inference toolkits do.

The script (``inference.py`` unless SAGEMAKER_PROGRAM names another) is imported from its
code folder, which goes first on ``sys.path`` so that its own modules import, under a name of
its own, so that two scripts (an inference pipeline) never share a module. Then:

- ``model_fn(model_dir)`` loads the model once, at start-up;
- each request runs ``input_fn(request_body, request_content_type)``,
  ``predict_fn(input_data, model)`` and ``output_fn(prediction, accept)``, or, in their place,
  ``transform_fn(model, request_body, content_type, accept)``;
- a function the script leaves out is the framework's default (``defaults.py``); defining
  ``transform_fn`` beside any of the three others is an error, as in the toolkits;
- a function taking one more argument than that gets a context (``ServingContext``);
- JSON and CSV bodies reach the script as ``str``, others as ``bytes``; no Accept (or
  ``*/*``) is SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else ``application/json``;
- ``output_fn`` (or ``transform_fn``) returns the body (``bytes`` or ``str``), or a tuple
  ``(body, content_type)``; the response's type is otherwise the Accept type.

A problem loading the script or the model raises ``ScriptLoadError``, which becomes the
endpoint's FailureReason; an exception in the script while answering is a 500 carrying its
message (``app.py``), which InvokeEndpoint reports as ModelError.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from opensage.algorithms.base import Prediction, Predictor
from opensage.errors import InferenceError
from opensage.formats.negotiation import media_type
from opensage.runtime.serving import codecs
from opensage.runtime.serving.defaults import MODEL_FN_EXAMPLE, DefaultModelError, Defaults, defaults_for
from opensage.runtime.serving.spec import ScriptSpec

DEFAULT_ACCEPT_ENV = "SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT"
_CHAIN = ("input_fn", "predict_fn", "output_fn")
# The arguments SageMaker passes each function, before an optional context.
_ARGUMENTS = {
    "model_fn": ("model_dir",),
    "input_fn": ("request_body", "request_content_type"),
    "predict_fn": ("input_data", "model"),
    "output_fn": ("prediction", "accept"),
    "transform_fn": ("model", "request_body", "content_type", "accept"),
}


class ScriptLoadError(Exception):
    """The inference script or its model cannot be loaded; the message becomes the FailureReason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class ServingContext:
    """What a handler that takes a context gets: the model directory, as the toolkits' context carries it."""

    model_dir: str
    system_properties: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Handler:
    """One function of the chain, and whether it takes the context as its last argument."""

    name: str
    function: Callable[..., Any]
    takes_context: bool = False

    def __call__(self, context: ServingContext, *arguments: Any) -> Any:
        if self.takes_context:
            return self.function(*arguments, context)
        return self.function(*arguments)


@dataclass(frozen=True)
class Handlers:
    model_fn: Handler
    input_fn: Handler
    predict_fn: Handler
    output_fn: Handler
    transform_fn: Handler | None = None


# --- finding the functions ----------------------------------------------------------------------


def import_script(path: Path, code_dir: Path) -> ModuleType:
    """Import ``path`` as a module of its own, with ``code_dir`` first on ``sys.path``."""
    folder = str(code_dir)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    digest = hashlib.sha256(str(path).encode()).hexdigest()[:12]
    name = f"opensage_inference_{digest}_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ScriptLoadError(f"{path.name} cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    # Registered first, as an import would: pickles and dataclasses look their module up by name.
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit) as exc:  # a script may call sys.exit() while importing
        del sys.modules[name]
        raise ScriptLoadError(f"Could not import {path.name}: {type(exc).__name__}: {exc}") from exc
    return module


def _takes_context(name: str, function: Callable[..., Any], script: str) -> bool:
    """Whether to pass the context: the toolkits pass it to a function with one more parameter."""
    wanted = len(_ARGUMENTS[name])
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return False  # a callable without a signature: call it plainly
    if any(p.kind is inspect.Parameter.VAR_POSITIONAL for p in parameters):
        return False
    positional = [
        p
        for p in parameters
        if p.kind in (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    ]
    required = [p for p in positional if p.default is inspect.Parameter.empty]
    if len(positional) == wanted + 1:
        return True
    if len(positional) >= wanted and len(required) <= wanted:
        return False
    expected = ", ".join(_ARGUMENTS[name])
    raise ScriptLoadError(
        f"{name} in {script} takes {len(positional)} argument(s); SageMaker calls it with ({expected}), "
        "optionally followed by a context"
    )


def _user_handler(module: ModuleType, name: str, script: str) -> Handler | None:
    function = getattr(module, name, None)
    if function is None:
        return None
    if not callable(function):
        raise ScriptLoadError(f"{name} in {script} is a {type(function).__name__}, not a function")
    return Handler(name, function, _takes_context(name, function, script))


def resolve_handlers(module: ModuleType | None, script: str, defaults: Defaults) -> Handlers:
    """The chain: the script's functions, and the framework's defaults where it defines none."""
    found = {
        name: _user_handler(module, name, script) if module is not None else None
        for name in ("model_fn", *_CHAIN, "transform_fn")
    }
    transform_fn = found["transform_fn"]
    if transform_fn is not None and any(found[name] for name in _CHAIN):
        also = ", ".join(name for name in _CHAIN if found[name])
        raise ScriptLoadError(
            f"{script} defines transform_fn and {also}: SageMaker uses either transform_fn or "
            "input_fn/predict_fn/output_fn, not both"
        )
    model_fn = found["model_fn"]
    if model_fn is None:
        model_fn = _default_model_fn(module, script, defaults)
    return Handlers(
        model_fn=model_fn,
        input_fn=found["input_fn"] or Handler("input_fn", defaults.input_fn),
        predict_fn=found["predict_fn"] or Handler("predict_fn", defaults.predict_fn),
        output_fn=found["output_fn"] or Handler("output_fn", defaults.output_fn),
        transform_fn=transform_fn,
    )


def _default_model_fn(module: ModuleType | None, script: str, defaults: Defaults) -> Handler:
    if defaults.model_fn is not None:
        return Handler("model_fn", defaults.model_fn)
    where = (
        f"{script} defines no model_fn" if module is not None else f"there is no inference script {script}"
    )
    raise ScriptLoadError(
        f"{where}, and the {defaults.display} container has no default model_fn: define "
        f"model_fn(model_dir) returning your model, e.g. `{MODEL_FN_EXAMPLE}`"
    )


# --- loading and answering ---------------------------------------------------------------------


def load_script(
    script: ScriptSpec, model_dir: Path, code_dir: Path, environment: Mapping[str, str]
) -> ScriptPredictor:
    """Import the script, resolve its chain and run ``model_fn(model_dir)``; ScriptLoadError if any fails."""
    defaults = defaults_for(script.framework)
    path = code_dir / script.program
    module: ModuleType | None = None
    if path.is_file():
        module = import_script(path, code_dir)
    elif script.named:
        raise ScriptLoadError(
            f"The entry point {script.program} (SAGEMAKER_PROGRAM) is not in the code folder {code_dir}"
        )
    handlers = resolve_handlers(module, script.program, defaults)
    context = ServingContext(str(model_dir), {"model_dir": str(model_dir)})
    try:
        model = handlers.model_fn(context, str(model_dir))
    except DefaultModelError as exc:
        raise ScriptLoadError(exc.message) from exc
    except Exception as exc:
        raise ScriptLoadError(f"model_fn failed: {type(exc).__name__}: {exc}") from exc
    default_accept = environment.get(DEFAULT_ACCEPT_ENV, "").strip() or codecs.DEFAULT_ACCEPT
    return ScriptPredictor(handlers, model, context, default_accept)


class ScriptPredictor(Predictor):
    def __init__(self, handlers: Handlers, model: Any, context: ServingContext, default_accept: str) -> None:
        self._handlers = handlers
        self._model = model
        self._context = context
        self._default_accept = default_accept

    def predict(self, body: bytes, content_type: str | None, accept: str | None) -> Prediction:
        request: bytes | str = codecs.as_text(body) if codecs.is_text(content_type) else body
        wanted = accept if accept and accept.strip() not in ("", "*/*") else self._default_accept
        handlers, context = self._handlers, self._context
        if handlers.transform_fn is not None:
            result = handlers.transform_fn(context, self._model, request, content_type, wanted)
        else:
            data = handlers.input_fn(context, request, content_type)
            prediction = handlers.predict_fn(context, data, self._model)
            result = handlers.output_fn(context, prediction, wanted)
        return _response(result, wanted)


def _response(result: Any, accept: str) -> Prediction:
    """What output_fn (or transform_fn) returned as a response: the body, and its type."""
    # A list of types (with weights) is no response type: answer with the first one asked for.
    first = accept.split(",", 1)[0]
    content_type = (media_type(first) or first.strip()) if "," in accept else accept.strip()
    body = result
    if isinstance(result, tuple) and len(result) == 2 and isinstance(result[1], str):
        body, content_type = result
    if not _is_header_value(content_type):
        raise InferenceError(
            500, f"output_fn returned a content type that is not a header value: {content_type!r}"
        )
    if isinstance(body, str):
        return Prediction(body.encode("utf-8"), content_type)
    if isinstance(body, bytes | bytearray | memoryview):
        return Prediction(bytes(body), content_type)
    raise InferenceError(
        500,
        f"output_fn returned a {type(body).__name__}; return the response body (bytes or str), "
        "or a tuple (body, content_type)",
    )


def _is_header_value(value: str) -> bool:
    # The model server writes it into the response head as it is: no line breaks, Latin-1 only.
    return value.isprintable() and all(ord(character) < 256 for character in value)
