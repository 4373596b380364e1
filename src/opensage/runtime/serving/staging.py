"""Prepare a model server for users' inference code: find the code, install its requirements, lay out /opt/ml.

The platform does this (for an endpoint's variant, or a transform job's instance) before the
model server starts, with the model data already unpacked. The code is where SageMaker's
framework containers look for it:

- ``SAGEMAKER_SUBMIT_DIRECTORY`` an S3 tar.gz (the SageMaker SDK v2 without repacking): it is
  downloaded and unpacked once per object version, shared like model data;
- ``SAGEMAKER_SUBMIT_DIRECTORY`` a folder under /opt/ml/model (``/opt/ml/model/code`` after
  the SDK repacks the model), or no such variable: the model archive's ``code/`` folder.

The entry point is ``SAGEMAKER_PROGRAM``, else ``inference.py``. The XGBoost image runs a
script only when one is given (SAGEMAKER_PROGRAM, or ``code/inference.py`` in the model);
otherwise it serves its built-in algorithm. ``code/requirements.txt`` is installed into the
cached environment training uses (``runtime.usercode.requirements``). Where this machine can
mount /opt/ml (``runtime.usercode.optml``) and one container of the model runs a script, its
model is shown at /opt/ml/model with the code at /opt/ml/model/code, as on SageMaker.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from opensage.errors import ValidationError
from opensage.naming import parse_s3_uri
from opensage.objects.base import ObjectStore
from opensage.runtime.serving.artifacts import ArtifactError, fetch_model
from opensage.runtime.serving.spec import ContainerSpec, ScriptSpec, ServeSpec
from opensage.runtime.usercode import optml, requirements
from opensage.runtime.usercode.inherited import inherited_environment

PROGRAM_ENV = "SAGEMAKER_PROGRAM"
SUBMIT_DIRECTORY_ENV = "SAGEMAKER_SUBMIT_DIRECTORY"
DEFAULT_PROGRAM = "inference.py"
CODE_FOLDER = "code"
REQUIREMENTS_FILE = "requirements.txt"
MODEL_MOUNT = PurePosixPath(optml.MOUNT_POINT) / "model"
#: The folder under a run directory that is mounted at /opt/ml.
OPTML_FOLDER = "opt-ml"


@dataclass(frozen=True)
class CodeSource:
    """Where a container's inference code comes from, as its Environment says."""

    #: SAGEMAKER_PROGRAM as a file name (``.py`` added to a module name); None when unset.
    program: str | None
    #: An S3 tar.gz of the code; None when the code is in the model.
    archive: str | None
    #: Otherwise, the folder of the model holding the code.
    model_folder: str = CODE_FOLDER


def code_source(environment: Mapping[str, str]) -> CodeSource:
    """Read SAGEMAKER_PROGRAM and SAGEMAKER_SUBMIT_DIRECTORY; ValidationError for a form opensage cannot use."""
    program = _program(environment.get(PROGRAM_ENV, "").strip())
    submit = environment.get(SUBMIT_DIRECTORY_ENV, "").strip()
    if not submit:
        return CodeSource(program, None)
    if submit.startswith("s3://"):
        parse_s3_uri(submit, SUBMIT_DIRECTORY_ENV)
        return CodeSource(program, submit)
    path = PurePosixPath(submit)
    if path.is_relative_to(MODEL_MOUNT) and ".." not in path.parts:
        return CodeSource(program, None, str(path.relative_to(MODEL_MOUNT)))
    raise ValidationError(
        f"{SUBMIT_DIRECTORY_ENV} '{submit}' cannot be reached by opensage: give an S3 URI of a tar.gz of your "
        f"code, or a folder under {MODEL_MOUNT} inside the model archive (e.g. {MODEL_MOUNT}/code)"
    )


def _program(value: str) -> str | None:
    if not value:
        return None
    path = PurePosixPath(value)
    if path.is_absolute() or ".." in path.parts:
        raise ValidationError(
            f"{PROGRAM_ENV} '{value}' must name a file in the code folder, e.g. {DEFAULT_PROGRAM}"
        )
    # The toolkits take a module name too ("inference" is inference.py).
    return value if path.suffix == ".py" else f"{value}.py"


@dataclass(frozen=True)
class Staging:
    """What preparing code needs: the object store, the caches, and where to report progress."""

    store: ObjectStore
    #: Where S3 code archives are unpacked (the model cache: one object, one folder).
    code_cache: Path
    #: Where requirements.txt environments are kept (shared with training); None: not installed.
    environments: Path | None
    say: Callable[[str], None]


def stage_scripts(spec: ServeSpec, run_dir: Path, staging: Staging) -> ServeSpec:
    """``spec`` with each script container's code found, its requirements installed and /opt/ml laid out.

    Raises ``ValidationError`` (the code archive is missing or broken) or ``AlgorithmClientError``
    (pip could not install requirements.txt).
    """
    containers = [_with_script(container, staging) for container in spec.containers]
    scripts = [
        (Path(container.model_dir or ""), Path(container.script.code_dir))
        for container in containers
        if container.script is not None
    ]
    if not scripts:
        return replace(spec, containers=containers)
    site_dirs = [str(folder) for folder in _install_requirements([code for _, code in scripts], staging)]
    # One /opt/ml per process: with two scripts in one pipeline, each gets its real folders.
    root = _lay_out_optml(*scripts[0], run_dir) if len(scripts) == 1 and optml.available() else None
    return replace(spec, containers=containers, site_dirs=site_dirs, optml_root=root)


def _with_script(container: ContainerSpec, staging: Staging) -> ContainerSpec:
    if container.framework is None or container.model_dir is None:
        return container
    source = code_source(container.environment)
    model_dir = Path(container.model_dir)
    builtin = bool(container.algorithm)
    if builtin and source.program is None and not (model_dir / CODE_FOLDER / DEFAULT_PROGRAM).is_file():
        return container  # the XGBoost image without a script: the built-in algorithm
    if source.archive is not None:
        try:
            code_dir = fetch_model(staging.store, source.archive, staging.code_cache)
        except ArtifactError as exc:
            raise ArtifactError(f"{SUBMIT_DIRECTORY_ENV} {source.archive}: {exc.message}") from exc
    else:
        code_dir = model_dir / source.model_folder
    script = ScriptSpec(
        framework=container.framework,
        program=source.program or DEFAULT_PROGRAM,
        code_dir=str(code_dir),
        named=source.program is not None,
    )
    return replace(container, script=script)


def _install_requirements(code_dirs: list[Path], staging: Staging) -> list[Path]:
    found = []
    for code_dir in code_dirs:
        candidate = code_dir / REQUIREMENTS_FILE
        if not candidate.is_file():
            continue
        if staging.environments is None:
            staging.say(f"{candidate} is not installed: this server keeps no environments cache")
            continue
        found.append(requirements.prepare(candidate, staging.environments, staging.say))
    return found


def _lay_out_optml(model_dir: Path, code_dir: Path, run_dir: Path) -> str:
    """A folder whose ``model/`` shows the model's files, and its code under ``code/``, through links."""
    root = run_dir / OPTML_FOLDER
    shutil.rmtree(root, ignore_errors=True)
    view = root / "model"
    view.mkdir(parents=True)
    code_in_model = code_dir.is_relative_to(model_dir)
    for entry in model_dir.iterdir():
        if entry.name == CODE_FOLDER and not code_in_model:
            continue  # the submit directory's code replaces the archive's own
        (view / entry.name).symlink_to(entry)
    if not code_in_model:
        (view / CODE_FOLDER).symlink_to(code_dir)
    return str(root)


def mounted_paths(model_dir: Path, code_dir: Path) -> tuple[Path, Path]:
    """A script container's model and code folders as it sees them under the /opt/ml mount."""
    mounted = Path(MODEL_MOUNT)
    if code_dir.is_relative_to(model_dir):
        return mounted, mounted / code_dir.relative_to(model_dir)
    return mounted, mounted / CODE_FOLDER


def process_environment(spec: ServeSpec, run_dir: Path) -> dict[str, str] | None:
    """The model server's environment when it runs users' code (None: it inherits the platform's).

    The platform's own variables, then each script container's Environment (as a container's
    process sees it on SageMaker), with requirements.txt environments on PYTHONPATH and pip
    installs of the code's own kept in the run directory.
    """
    if not spec.runs_user_code():
        return None
    merged = inherited_environment()
    for container in spec.containers:
        if container.script is not None:
            merged.update(container.environment)
    return requirements.environment(merged, [Path(folder) for folder in spec.site_dirs], run_dir / "pip")
