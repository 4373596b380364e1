"""What a model server process serves, written by the platform to ``<run dir>/serve.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import TypeAdapter


@dataclass(frozen=True)
class ContainerSpec:
    """One container of a model: a built-in algorithm and its extracted model directory."""

    algorithm: str
    model_dir: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    hostname: str | None = None


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
