"""Run a user's training script as SageMaker's training toolkit does: ``python -m opensage.runtime.usercode.script``.

The program is ``sagemaker_program`` (a hyperparameter, as the SageMaker SDK sets it), found
in the code folder (``sagemaker_submit_directory`` unpacked there, or the ``code`` channel).
Every other hyperparameter becomes ``--name value`` on its command line, with the SM_*
environment around it. When the script fails, ``/opt/ml/output/failure`` gets SageMaker's
reason — ``AlgorithmError: ExecuteUserScriptError:`` with the exit code, the last lines of
the error, and the command — and the traceback stays in the log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import deque
from pathlib import Path
from typing import IO

from opensage.runtime.environment import command_line_arguments, decode_hyperparameter, split_hyperparameters

FAILURE_LIMIT = 1024


def program_of(hyperparameters: dict[str, str]) -> str | None:
    program = hyperparameters.get("sagemaker_program")
    return None if program is None else str(decode_hyperparameter(program))


def code_folder(root: Path) -> Path:
    """Where the script is: /opt/ml/code (the unpacked submit directory) or the ``code`` channel."""
    for candidate in (root / "code", root / "input" / "data" / "code"):
        if candidate.is_dir() and any(candidate.iterdir()):
            return candidate
    return root / "code"


def failure_reason(code: int, errors: list[str], command: list[str]) -> str:
    message = "\n".join(errors) if errors else "the script printed nothing to stderr"
    shown = " ".join(command)
    reason = f'AlgorithmError: ExecuteUserScriptError:\nExitCode {code}\nErrorMessage "{message}"\nCommand "{shown}"'
    if len(reason) <= FAILURE_LIMIT:
        return reason
    # Keep the head (what failed) and the end of the error (the exception), as SageMaker does.
    head = f'AlgorithmError: ExecuteUserScriptError:\nExitCode {code}\nErrorMessage "'
    tail = f'"\nCommand "{shown}"'
    room = FAILURE_LIMIT - len(head) - len(tail) - 3
    return head + "..." + message[-room:] + tail if room > 0 else reason[:FAILURE_LIMIT]


def _forward(stream: IO[bytes], out: IO[str], keep: deque[str] | None) -> None:
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", errors="replace").rstrip("\n")
        out.write(line + "\n")
        out.flush()
        if keep is not None and line.strip():
            keep.append(line)


def main() -> int:
    root = Path(os.environ.get("SM_MODEL_DIR", "/opt/ml/model")).parent
    hyperparameters = json.loads((root / "input" / "config" / "hyperparameters.json").read_text())
    program = program_of(hyperparameters)
    failure = root / "output" / "failure"
    folder = code_folder(root)
    if program is None:
        failure.write_text(
            "ClientError: script mode needs the hyperparameter sagemaker_program (the entry point)"
        )
        return 2
    if not (folder / program).is_file():
        failure.write_text(f"ClientError: the entry point {program} is not in the code folder {folder}")
        return 2
    user, _ = split_hyperparameters(hyperparameters)
    command = [sys.executable, program, *command_line_arguments(user)]
    print(f"Invoking script: {' '.join(command)}", flush=True)
    errors: deque[str] = deque(maxlen=8)
    process = subprocess.Popen(
        command, cwd=folder, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    # StopTrainingJob (SIGTERM) goes on to the script, which gets its chance to save a model.
    signal.signal(signal.SIGTERM, lambda signum, frame: process.terminate())
    pumps = [
        threading.Thread(target=_forward, args=(process.stdout, sys.stdout, None), daemon=True),
        threading.Thread(target=_forward, args=(process.stderr, sys.stdout, errors), daemon=True),
    ]
    for pump in pumps:
        pump.start()
    code = process.wait()
    for pump in pumps:
        pump.join()
    if code != 0 and not (failure.exists() and failure.read_text().strip()):
        failure.write_text(failure_reason(code, list(errors), [Path(sys.executable).name, program]))
    return code


if __name__ == "__main__":
    sys.exit(main())
