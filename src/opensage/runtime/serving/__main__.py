"""Entry point: ``python -m opensage.runtime.serving <run dir> <listening socket fd>``.

The platform binds the socket and hands it over, so the port is known before the process
starts and no other process can take it. If loading the model fails, the reason goes to
``<run dir>/failure`` (the endpoint's FailureReason) and the process exits 1. The process
ends when its parent does: a model server without its platform only holds memory. A server
for users' code whose spec names an /opt/ml folder mounts it first, while it has one thread.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import TYPE_CHECKING

from opensage.runtime.serving.app import ModelServerApp

if TYPE_CHECKING:
    from opensage.runtime.serving.spec import ServeSpec

FAILURE_FILE = "failure"


def _die_with_parent() -> None:
    """End this process within a second of its parent process's end.

    Not prctl(PR_SET_PDEATHSIG): Linux sends that signal when the parent *thread* exits, and
    the platform starts model servers from short-lived threads.
    """
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _mount_optml(spec: ServeSpec) -> bool:
    """Enter a mount namespace with the spec's folder at /opt/ml; False (real folders) if there is none or it fails."""
    if spec.optml_root is None:
        return False
    from opensage.runtime.usercode import optml

    try:
        optml.enter(spec.optml_root)
    except OSError as exc:
        print(
            f"opensage: cannot mount {spec.optml_root} at /opt/ml ({exc}); using its real folders", flush=True
        )
        return False
    return True


def _build_app(spec: ServeSpec, mounted: bool) -> ModelServerApp:
    from opensage.runtime.serving.containers import Pipeline, load_container
    from opensage.runtime.serving.multimodel import ModelCache

    if spec.multi_model is not None:
        return ModelServerApp(None, ModelCache(spec.multi_model, spec.containers[0]))
    predictors = [load_container(container, mounted=mounted) for container in spec.containers]
    return ModelServerApp(predictors[0] if len(predictors) == 1 else Pipeline(predictors), None)


def _fail(run_dir: Path, error: Exception) -> int:
    traceback.print_exc()
    message = getattr(error, "message", None) or f"{type(error).__name__}: {error}"
    (run_dir / FAILURE_FILE).write_text(f"The model could not be loaded: {message}"[:1024])
    return 1


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print("usage: python -m opensage.runtime.serving <run dir> <listening socket fd>", file=sys.stderr)
        return 64
    from opensage.runtime.serving.spec import SPEC_FILE, read_spec

    run_dir, fd = Path(argv[1]), int(argv[2])
    try:
        spec = read_spec(run_dir / SPEC_FILE)
    except Exception as error:
        return _fail(run_dir, error)
    # Before any thread starts: a process can only enter a user namespace while it has one.
    mounted = _mount_optml(spec)
    _die_with_parent()
    if not spec.runs_user_code():
        # Built-in algorithms never use scikit-learn; xgboost would import it (a second) if it could.
        sys.modules.setdefault("sklearn", None)  # type: ignore[arg-type]
    try:
        app = _build_app(spec, mounted)
    except Exception as error:
        return _fail(run_dir, error)
    from opensage.runtime.serving.http import serve

    print(f"opensage model server {spec.name}: model loaded, pid {os.getpid()}, serving", flush=True)
    serve(app, socket.socket(fileno=fd))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
