"""What a user sees while waiting for a job: a rich progress line and the latest metric line of its log."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import RenderableType

# A log line that reports a metric: "name:value" or "name=value" with a number, the name
# starting with a letter so that clock times ("12:00:01") do not count.
_METRIC = re.compile(r"(?<![\w.-])[A-Za-z][\w.\-/]*\s*[:=]\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?")


def is_metric_line(message: str) -> bool:
    return _METRIC.search(message) is not None


@dataclass(frozen=True)
class Steps:
    """How a job's log counts its progress: a line matching ``pattern`` reports step ``int(group 1) + offset``."""

    total: int
    pattern: re.Pattern[str]
    label: str = "step"
    offset: int = 0

    def step_of(self, message: str) -> int | None:
        match = self.pattern.search(message)
        return int(match.group(1)) + self.offset if match else None


class Display(Protocol):
    @property
    def wants_logs(self) -> bool: ...

    def status(self, text: str) -> None: ...

    def line(self, message: str) -> None: ...

    def close(self, summary: str) -> None: ...


class Silent:
    """No output at all: for ``progress=False``."""

    wants_logs = False

    def status(self, text: str) -> None:
        pass

    def line(self, message: str) -> None:
        pass

    def close(self, summary: str) -> None:
        pass


class RichDisplay:
    """A spinner with the job's status, a bar when the log counts steps, and the latest metric line."""

    wants_logs = True

    def __init__(self, name: str, steps: Steps | None = None) -> None:
        from rich.console import Console
        from rich.live import Live
        from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._steps = steps
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.fields[job]}[/]  {task.description}"),
            BarColumn(),
            TextColumn("{task.fields[count]}"),
            TimeElapsedColumn(),
        )
        self._task = self._progress.add_task(
            "Starting", total=steps.total if steps else None, job=name, count=""
        )
        self._metric = ""
        self._console = Console(stderr=True)
        self._live = Live(self, console=self._console, refresh_per_second=8, transient=False)
        self._live.start()

    def __rich__(self) -> RenderableType:
        from rich.console import Group
        from rich.text import Text

        latest = Text(self._metric, style="dim", no_wrap=True, overflow="ellipsis")
        return Group(self._progress, latest) if self._metric else self._progress

    def status(self, text: str) -> None:
        self._progress.update(self._task, description=text)

    def line(self, message: str) -> None:
        text = message.replace("\t", "  ").strip()
        if self._steps is not None:
            step = self._steps.step_of(message)
            if step is not None:
                shown = min(step, self._steps.total)
                self._progress.update(
                    self._task, completed=shown, count=f"{self._steps.label} {shown}/{self._steps.total}"
                )
        if text and is_metric_line(text):
            self._metric = text

    def close(self, summary: str) -> None:
        self._live.stop()
        if not (self._console.is_terminal or self._console.is_jupyter):
            # Off a terminal rich draws the display once, at the end, without ending its line.
            self._console.line()
        self._console.print(summary, highlight=False)


def display_for(progress: bool, name: str, steps: Steps | None = None) -> Display:
    return RichDisplay(name, steps) if progress else Silent()


def status_text(description: Mapping[str, Any], status_field: str) -> str:
    """``InProgress / Training``: the job's status and, for training jobs, its secondary status."""
    status = str(description.get(status_field, ""))
    secondary = description.get("SecondaryStatus")
    return f"{status} / {secondary}" if secondary and secondary != status else status
