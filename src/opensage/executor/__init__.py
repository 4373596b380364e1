"""Executors start job processes; the runner is what runs inside one."""

from __future__ import annotations

from opensage.executor.base import Executor


def open_executor(spec: str) -> Executor:
    """The executor named by settings: ``local`` (processes on this machine)."""
    if spec == "local":
        from opensage.executor.local_executor import LocalExecutor

        return LocalExecutor()
    from opensage.errors import ValidationError

    raise ValidationError(f"Unknown executor '{spec}'; opensage supports 'local' today")
