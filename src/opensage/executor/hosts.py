"""The processes of a job's hosts (algo-1, algo-2, ...), their log streams and their metrics.

Each host's stdout and stderr become one log stream, line by line, as SageMaker sends a
container's output to CloudWatch; every line is also matched against the job's metric
definitions. Hosts share the job process's process group, so killing the group ends them.
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import IO

from opensage.executor.status import MetricPoint
from opensage.logstore.base import LogWriter
from opensage.runtime.metrics import MetricScraper

# CloudWatch keeps at most 256 KiB per event; longer lines are split rather than lost.
_MAX_EVENT_CHARS = 256 * 1024 - 26


class MetricsSink:
    """Every metric value seen, appended to metrics.jsonl; the latest of each kept in memory."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._latest: dict[str, MetricPoint] = {}
        self._lock = threading.Lock()

    def record(self, host: str, name: str, value: float, timestamp: float) -> None:
        line = json.dumps({"host": host, "name": name, "value": value, "timestamp": timestamp})
        with self._lock:
            self._latest[name] = MetricPoint(name, value, timestamp)
            with self._path.open("a") as series:
                series.write(line + "\n")

    def latest(self) -> list[MetricPoint]:
        with self._lock:
            return [self._latest[name] for name in sorted(self._latest)]


class HostProcess:
    """One host: its process, and a thread copying its output into its log stream."""

    def __init__(
        self,
        name: str,
        command: list[str],
        environment: dict[str, str],
        cwd: Path,
        log: LogWriter,
        scraper: MetricScraper,
        metrics: MetricsSink,
    ) -> None:
        self.name = name
        self._log = log
        self._scraper = scraper
        self._metrics = metrics
        self._tail: list[str] = []
        self.process = subprocess.Popen(
            command,
            env=environment,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        self._pump = threading.Thread(target=self._copy_output, name=f"log-{name}", daemon=True)
        self._pump.start()

    def poll(self) -> int | None:
        return self.process.poll()

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()

    def finish(self, timeout: float = 10.0) -> None:
        """Wait for the last output to reach the log, then close the stream."""
        self._pump.join(timeout)
        self._log.close()

    def last_lines(self) -> list[str]:
        return list(self._tail)

    def _copy_output(self) -> None:
        stream: IO[bytes] | None = self.process.stdout
        if stream is None:
            return
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            now = time.time()
            for start in range(0, max(len(line), 1), _MAX_EVENT_CHARS):
                self._log.write(line[start : start + _MAX_EVENT_CHARS], int(now * 1000))
            for metric in self._scraper.scan(line):
                self._metrics.record(self.name, metric.name, metric.value, now)
            if line.strip():
                self._tail = [*self._tail[-19:], line]
        stream.close()
