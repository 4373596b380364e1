"""requirements.txt for a job's code: installed once into a cached prefix, never into opensage's own Python.

Users' code runs on opensage's interpreter, so it sees the packages opensage has (NumPy,
scikit-learn, XGBoost, ...). What a requirements.txt adds is installed with ``pip install
--prefix`` into ``<cache>/<hash of the file and the interpreter>``, which then goes on the
job's PYTHONPATH; requirements the interpreter already satisfies are skipped, so the
prefix holds only what is new. Jobs get ``PIP_PREFIX`` too: a ``pip install`` they run
themselves (SageMaker's SDK drivers do) lands in a prefix of their own, not in opensage.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Callable
from pathlib import Path

from opensage.errors import AlgorithmClientError

_COMPLETE = ".complete"


def site_packages(prefix: Path) -> Path:
    """Where ``pip install --prefix <prefix>`` puts packages for this interpreter."""
    relative = Path(sysconfig.get_path("purelib")).relative_to(sysconfig.get_path("data"))
    return prefix / relative


def _key(requirements: bytes) -> str:
    interpreter = f"{sys.version}|{sys.executable}|{sys.platform}".encode()
    return hashlib.sha256(interpreter + b"\0" + requirements).hexdigest()[:20]


def prepare(requirements: Path, cache: Path, say: Callable[[str], None]) -> Path:
    """The site-packages folder holding ``requirements`` (installed now, or found in the cache)."""
    key = _key(requirements.read_bytes())
    prefix = cache / key
    if (prefix / _COMPLETE).exists():
        say(f"requirements.txt: using the environment prepared earlier ({prefix})")
        return site_packages(prefix)
    cache.mkdir(parents=True, exist_ok=True)
    with (cache / f"{key}.lock").open("w") as lock:
        # Jobs with the same requirements wait for one install rather than racing it.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (prefix / _COMPLETE).exists():
            _install(requirements, prefix, say)
    return site_packages(prefix)


def _install(requirements: Path, prefix: Path, say: Callable[[str], None]) -> None:
    staging = prefix.with_name(prefix.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    say(f"requirements.txt: installing into {prefix}")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--prefix",
        str(staging),
        "--requirement",
        str(requirements),
        "--no-input",
        "--disable-pip-version-check",
        "--no-warn-script-location",
    ]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=environment, cwd=requirements.parent
    )
    last: list[str] = []
    for raw in process.stdout or ():
        line = raw.decode("utf-8", errors="replace").rstrip()
        if line and "is ignored: it is neither a file nor a directory" not in line:
            say(f"pip: {line}")
            last = [*last[-4:], line]
    if process.wait() != 0:
        shutil.rmtree(staging, ignore_errors=True)
        reason = last[-1] if last else f"pip exited with code {process.returncode}"
        raise AlgorithmClientError(f"pip could not install requirements.txt: {reason}")
    staging.mkdir(parents=True, exist_ok=True)
    (staging / _COMPLETE).write_text("")
    shutil.rmtree(prefix, ignore_errors=True)
    staging.rename(prefix)


def environment(base: dict[str, str], site_dirs: list[Path], pip_prefix: Path) -> dict[str, str]:
    """``base`` for a process running users' code: opensage's interpreter first on PATH (as
    ``python3`` and ``pip``), ``site_dirs`` on PYTHONPATH, and pip installs redirected to ``pip_prefix``."""
    merged = dict(base)
    interpreter_bin = str(Path(sys.executable).parent)
    merged["PATH"] = os.pathsep.join([interpreter_bin, merged.get("PATH", os.defpath)])
    paths = [str(site) for site in (*site_dirs, site_packages(pip_prefix))]
    if merged.get("PYTHONPATH"):
        paths.append(merged["PYTHONPATH"])
    merged["PYTHONPATH"] = os.pathsep.join(paths)
    merged["PIP_PREFIX"] = str(pip_prefix)
    merged["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return merged
