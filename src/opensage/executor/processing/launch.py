"""How an instance's code starts: its ContainerEntrypoint, with the instance's folder at /opt/ml.

The command runs through ``runtime.usercode.optml``, so ``/opt/ml/processing/...`` and
``/opt/ml/config/...`` are the instance's own folders, on opensage's interpreter as
``python3`` with pip installs kept out of opensage (``runtime.usercode.requirements``), and
with the job's Environment. It starts in the folder of the input named ``code`` — where the
SageMaker SDK's processors put the script, so ``["python3", "script.py"]`` finds it — and
in /opt/ml when there is no such input.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from opensage.errors import AlgorithmClientError
from opensage.executor.processing.layout import MOUNT_POINT, InstanceFolder
from opensage.executor.processing.spec import ProcessingRun
from opensage.runtime.frameworks import Framework, missing_framework
from opensage.runtime.usercode import optml, requirements
from opensage.runtime.usercode.inherited import inherited_environment

CODE_INPUT = "code"
# Changes to the working directory once /opt/ml is mounted, then becomes the command.
_ENTER_FOLDER = 'cd "$0" && exec "$@"'


@dataclass(frozen=True)
class InstanceLaunch:
    command: list[str]
    environment: dict[str, str]
    cwd: Path


def check_can_run(run: ProcessingRun) -> None:
    problem = missing_framework(Framework(run.framework))
    if problem is not None:
        raise AlgorithmClientError(problem)
    if not optml.available():
        raise AlgorithmClientError(
            "Processing jobs run their code with SageMaker's /opt/ml layout, and opensage cannot mount it "
            "here: run the server as root, or on Linux with user namespaces enabled and /opt/ml created "
            "(sudo mkdir -p /opt/ml)"
        )


def working_directory(run: ProcessingRun) -> str:
    """Where the code starts: the ``code`` input's folder, else /opt/ml."""
    for item in run.inputs:
        if item.name == CODE_INPUT and item.local_path is not None and not item.app_managed:
            return item.local_path
    return str(MOUNT_POINT)


def command_line(run: ProcessingRun) -> list[str]:
    return [*run.entrypoint, *run.arguments]


def launch(run: ProcessingRun, folder: InstanceFolder) -> InstanceLaunch:
    variables = inherited_environment()
    # Python code prints as it goes, so its log arrives live; the job's Environment may say otherwise.
    variables["PYTHONUNBUFFERED"] = "1"
    variables.update(run.environment)
    variables = requirements.environment(variables, [], Path(run.job_dir) / "pip" / folder.host)
    inner = ["/bin/sh", "-c", _ENTER_FOLDER, working_directory(run), *command_line(run)]
    return InstanceLaunch(optml.command(folder.root, inner), variables, folder.root)
