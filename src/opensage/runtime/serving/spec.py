"""What a model server process serves, written by the platform to ``<run dir>/serve.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter


@dataclass(frozen=True)
class ScriptSpec:
    """A user's inference script, as a framework image runs it (see ``scripts.py``)."""

    #: ``sklearn``, ``xgboost`` or ``pytorch``: which defaults fill in missing functions.
    framework: str
    #: The entry point's file name in ``code_dir`` (``inference.py`` unless SAGEMAKER_PROGRAM says).
    program: str
    #: The folder holding it on this machine: the model's ``code/`` or the unpacked submit directory.
    code_dir: str
    #: Whether SAGEMAKER_PROGRAM named it, so that a missing file is an error, not "use the defaults".
    named: bool = False


@dataclass(frozen=True)
class ContainerSpec:
    """One container of a model: a built-in algorithm or a user's script, and its extracted model directory."""

    algorithm: str
    model_dir: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    hostname: str | None = None
    #: The framework of a SageMaker framework image (``sklearn``, ``xgboost``, ``pytorch``), if it is one.
    framework: str | None = None
    #: Set when the container serves users' code rather than a built-in algorithm.
    script: ScriptSpec | None = None


@dataclass(frozen=True)
class MultiModelSpec:
    """Mode MultiModel: models are archives under ``prefix``, loaded on first use, least recent evicted."""

    objects_url: str
    bucket: str
    prefix: str
    cache_dir: str
    max_models: int = 8


@dataclass(frozen=True)
class ServeSpec:
    name: str
    containers: list[ContainerSpec]
    multi_model: MultiModelSpec | None = None
    #: requirements.txt environments (site-packages folders) the process gets on its PYTHONPATH.
    site_dirs: list[str] = field(default_factory=list)
    #: A folder to mount at /opt/ml (its ``model/`` is the script container's model and code).
    optml_root: str | None = None

    def runs_user_code(self) -> bool:
        return any(container.script is not None for container in self.containers)


SPEC_FILE = "serve.json"
_ADAPTER: TypeAdapter[ServeSpec] = TypeAdapter(ServeSpec)


def write_spec(folder: Path, spec: ServeSpec) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / SPEC_FILE
    partial = path.with_suffix(".partial")
    partial.write_bytes(_ADAPTER.dump_json(spec, indent=2))
    partial.replace(path)
    return path


def read_spec(path: Path) -> ServeSpec:
    return _ADAPTER.validate_python(json.loads(path.read_text()))
