"""What runs on a training host: a built-in algorithm, a user's script, or a container command.

Built-in algorithms run as ``python -m opensage.runtime.train``. Users' code — a
``sagemaker_program`` script or the request's ContainerEntrypoint — runs with the host's
folder mounted at /opt/ml (see runtime.usercode.optml), opensage's interpreter as
``python3``, its code folder's requirements.txt installed into a cached environment, and
pip installs of its own kept out of opensage's Python.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from opensage.errors import AlgorithmClientError, ArchiveError
from opensage.executor.jobspec import TrainingRun
from opensage.naming import parse_s3_uri
from opensage.objects.base import ObjectStore
from opensage.runtime.archives import extract_tar
from opensage.runtime.environment import HostEnvironment
from opensage.runtime.frameworks import Framework, missing_framework
from opensage.runtime.layout import HostLayout
from opensage.runtime.train import ALGORITHM_VARIABLE
from opensage.runtime.usercode import optml, requirements

BUILTIN = "builtin"
SCRIPT = "script"
COMMAND = "command"


@dataclass(frozen=True)
class HostLaunch:
    command: list[str]
    environment: dict[str, str]
    cwd: Path


def runs_user_code(run: TrainingRun) -> bool:
    return run.program != BUILTIN


def namespaced(run: TrainingRun) -> bool:
    """Whether users' code sees its host folder at /opt/ml (always tried; possible on most Linux)."""
    return runs_user_code(run) and optml.available()


def visible_layout(run: TrainingRun, layout: HostLayout) -> HostLayout:
    """The paths the host's code sees: /opt/ml when namespaced, the host folder otherwise."""
    return HostLayout(Path(optml.MOUNT_POINT)) if namespaced(run) else layout


def check_can_run(run: TrainingRun) -> None:
    if run.framework is not None:
        problem = missing_framework(Framework(run.framework))
        if problem is not None:
            raise AlgorithmClientError(problem)
    if run.program == COMMAND and not optml.available():
        raise AlgorithmClientError(
            "This job's ContainerEntrypoint expects SageMaker's /opt/ml layout, and opensage cannot mount "
            "it here: run the server as root, or on Linux with user namespaces enabled and /opt/ml created "
            "(sudo mkdir -p /opt/ml); scripts started with sagemaker_program run without it"
        )


def stage_code(
    store: ObjectStore, run: TrainingRun, layouts: list[HostLayout], say: Callable[[str], None]
) -> None:
    """Unpack ``sagemaker_submit_directory`` (an S3 tar.gz) into every host's /opt/ml/code."""
    if not run.submit_directory:
        return
    location = parse_s3_uri(run.submit_directory, "sagemaker_submit_directory")
    archive = Path(run.job_dir) / "sourcedir.tar.gz"
    try:
        store.download_file(location.bucket, location.key, archive)
    except Exception as exc:
        raise AlgorithmClientError(
            f"Could not download sagemaker_submit_directory {run.submit_directory}: {exc}"
        ) from exc
    for layout in layouts:
        layout.code_dir.mkdir(parents=True, exist_ok=True)
        try:
            extract_tar(archive, layout.code_dir, f"sagemaker_submit_directory {run.submit_directory}")
        except ArchiveError as exc:
            raise AlgorithmClientError(exc.message) from exc
    say(f"Unpacked {run.submit_directory} into the code folder")


def _requirements_file(layout: HostLayout) -> Path | None:
    for folder in (layout.code_dir, layout.channel_dir("code")):
        candidate = folder / "requirements.txt"
        if candidate.is_file():
            return candidate
    return None


def launch(
    run: TrainingRun, host: str, layout: HostLayout, environment: HostEnvironment, say: Callable[[str], None]
) -> HostLaunch:
    variables = environment.process_environment()
    if run.program == BUILTIN:
        variables[ALGORITHM_VARIABLE] = run.algorithm
        return HostLaunch(
            [sys.executable, "-m", "opensage.runtime.train", str(layout.root)], variables, layout.root
        )
    site_dirs: list[Path] = []
    found = _requirements_file(layout)
    if found is not None and run.environments_cache:
        site_dirs.append(requirements.prepare(found, Path(run.environments_cache), say))
    variables = requirements.environment(variables, site_dirs, Path(run.job_dir) / "pip" / host)
    if run.program == SCRIPT:
        program = run.hyperparameters.get("sagemaker_program", "")
        variables["SAGEMAKER_PROGRAM"] = program.strip('"')
        variables["SM_USER_ENTRY_POINT"] = program.strip('"')
        variables["SM_MODULE_DIR"] = str(environment.layout.code_dir)
        argv = [sys.executable, "-m", "opensage.runtime.usercode.script"]
    else:
        argv = [*(run.container_entrypoint or []), *(run.container_arguments or [])]
    if namespaced(run):
        argv = optml.command(layout.root, argv)
    elif run.program == SCRIPT:
        say("/opt/ml cannot be mounted here: the script finds its folders through the SM_* variables")
    return HostLaunch(argv, variables, layout.root)
