"""What a processing job says about how it ended: FailureReason for a failed instance, and ExitMessage.

ExitMessage is what the code wrote to ``/opt/ml/output/message`` (every instance's, joined,
cut to 1 KB), as SageMaker documents; a job whose code failed without writing one gets the
failure's own text. The job process leaves it in ``<job dir>/exit-message`` before its
final status, and the control plane copies it with the outcome.
"""

from __future__ import annotations

import signal
from pathlib import Path

from opensage.errors import AlgorithmClientError
from opensage.executor.processing.layout import InstanceFolder

EXIT_MESSAGE_FILE = "exit-message"
# SageMaker's limit on ExitMessage and FailureReason: 1 KB.
MESSAGE_LIMIT = 1024


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def failure_reason(host: str, code: int, lines: list[str], command: list[str]) -> str:
    """``AlgorithmError: ...`` naming the instance, how its code ended, its last lines and the command."""
    if code < 0:
        detail = " (out of memory?)" if -code == signal.SIGKILL else ""
        head = f"AlgorithmError: the processing code on {host} was killed by {_signal_name(-code)}{detail}"
    else:
        head = f"AlgorithmError: the processing code on {host} exited with code {code}"
    tail = f'\nCommand "{" ".join(command)}"'
    output = "\n".join(lines) if lines else "it printed nothing"
    room = MESSAGE_LIMIT - len(head) - len(tail) - len(":\n...")
    if len(output) > room:
        # Keep the end of the output: the exception is in the last lines.
        output = "..." + output[-max(room, 0) :]
    return (head + ":\n" + output + tail)[:MESSAGE_LIMIT]


def read_exit_message(folders: list[InstanceFolder]) -> str | None:
    """The instances' ``/opt/ml/output/message`` joined and cut to 1 KB; None when none wrote one.

    ClientError (AlgorithmClientError) when one is not UTF-8, as SageMaker fails such a job.
    """
    parts: list[str] = []
    for folder in folders:
        try:
            raw = folder.message_file.read_bytes()
        except FileNotFoundError:
            continue
        try:
            parts.append(raw.decode("utf-8"))
        except UnicodeDecodeError as exc:
            raise AlgorithmClientError(
                f"/opt/ml/output/message on {folder.host} is not UTF-8 text; write ExitMessage as UTF-8"
            ) from exc
    joined = "".join(parts)
    if not joined:
        return None
    return joined.encode("utf-8")[:MESSAGE_LIMIT].decode("utf-8", errors="ignore")


def write_exit_message(job_dir: Path, message: str | None) -> None:
    """Leave ``message`` for the control plane, whole or not at all; no file when there is none."""
    path = job_dir / EXIT_MESSAGE_FILE
    if message is None:
        path.unlink(missing_ok=True)
        return
    partial = path.with_name(EXIT_MESSAGE_FILE + ".partial")
    partial.write_text(message, encoding="utf-8")
    partial.replace(path)


def read_job_exit_message(job_dir: Path) -> str | None:
    try:
        return (job_dir / EXIT_MESSAGE_FILE).read_text(encoding="utf-8") or None
    except FileNotFoundError:
        return None
