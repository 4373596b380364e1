"""The processing job process: ``python -m opensage.executor.processing_runner <job dir>`` runs one job to its end.

It gives every instance (algo-1 ... algo-n) a folder of its own that its code sees at
/opt/ml: config files, and the inputs downloaded into their LocalPaths (sharded by key
where asked). It runs the ContainerEntrypoint on every instance, uploads Continuous
outputs as they are written and EndOfJob outputs once every instance has exited 0, and
ends Completed, Failed or Stopped, reporting each step in ``status.json``. It needs no
database and no server. SIGTERM (StopProcessingJob) and MaxRuntimeInSeconds stop every
instance: SIGTERM, the grace period, then SIGKILL.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path, PurePosixPath

from opensage.errors import AlgorithmClientError, OpenSageError
from opensage.executor.hosts import HostProcess, MetricsSink
from opensage.executor.job_process import run_job_process
from opensage.executor.processing import group, launch, messages
from opensage.executor.processing.config import write_config_files
from opensage.executor.processing.layout import InstanceFolder
from opensage.executor.processing.outputs import CONTINUOUS, END_OF_JOB, ContinuousUploads, OutputUploader
from opensage.executor.processing.spec import ProcessingRun, read_run
from opensage.executor.staging import require_output_bucket, stage_channel
from opensage.executor.status import Outcome, RunStatus, write_status
from opensage.logstore import open_log_store
from opensage.logstore.base import LogWriter
from opensage.objects import open_object_store
from opensage.runtime.metrics import MetricScraper
from opensage.security.keyring import open_keyring

logger = logging.getLogger("opensage.processing")

COMPLETED = "Completed"
FAILED = "Failed"
STOPPED = "Stopped"
MAX_RUNTIME_EXCEEDED = "MaxRuntimeExceeded"


class _SharedStream(LogWriter):
    """An instance's log as its HostProcess sees it: the runner closes it, after its own last lines."""

    def __init__(self, stream: LogWriter) -> None:
        self._stream = stream

    def write(self, message: str, timestamp_ms: int | None = None) -> None:
        self._stream.write(message, timestamp_ms)

    def flush(self) -> None:
        self._stream.flush()

    def close(self) -> None:
        self._stream.flush()


class ProcessingJobRunner:
    def __init__(self, run: ProcessingRun) -> None:
        self.run = run
        self.job_dir = Path(run.job_dir)
        self.status = RunStatus()
        self.store = open_object_store(run.objects_url, open_keyring(run.keyring))
        self.logs = open_log_store(Path(run.logs_root))
        self.hosts = [f"algo-{index + 1}" for index in range(run.instance_count)]
        self.folders = [InstanceFolder(host, self.job_dir / host) for host in self.hosts]
        self.streams: dict[str, LogWriter] = {}
        self.uploader = OutputUploader(
            self.store, run.outputs, self.folders, self._say_on, run.output_kms_key_arn
        )
        self.started = time.time()
        self.stop_reason: str | None = None
        self.wake = threading.Event()
        self.exit_message: str | None = None

    # --- stopping ---

    def request_stop(self, reason: str = STOPPED) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.wake.set()

    def _stopping(self) -> bool:
        limit = self.run.max_runtime_seconds
        if self.stop_reason is None and time.time() - self.started >= limit:
            self.request_stop(MAX_RUNTIME_EXCEEDED)
        return self.stop_reason is not None

    def _seconds_to_deadline(self) -> float:
        return max(0.0, min(1.0, self.started + self.run.max_runtime_seconds - time.time()))

    # --- status and log ---

    def _enter(self, step: str, message: str) -> None:
        self.status.enter(step, message, time.time())
        write_status(self.job_dir, self.status)

    def _finish(self, outcome: Outcome, message: str) -> None:
        # ExitMessage first: the control plane reads it when it sees the outcome.
        messages.write_exit_message(self.job_dir, self.exit_message)
        self.status.enter(outcome.status, message, time.time())
        self.status.transitions[-1].end_time = time.time()
        self.status.outcome = outcome
        write_status(self.job_dir, self.status)

    def _say_on(self, host: str, message: str) -> None:
        """A platform line in one instance's log, so users see what happens around their code."""
        stream = self.streams.get(host)
        if stream is not None:
            stream.write(f"[opensage] {message}")

    def _say(self, message: str) -> None:
        logger.info("%s", message)
        for host in self.streams:
            self._say_on(host, message)

    # --- the job ---

    def execute(self) -> None:
        self._enter("Starting", "Preparing the instances for processing")
        try:
            outcome = self._process()
        except (AlgorithmClientError, OpenSageError) as error:
            outcome = Outcome(
                FAILED, FAILED, failure_reason=f"ClientError: {error}"[: messages.MESSAGE_LIMIT]
            )
        except Exception as error:
            traceback.print_exc()
            reason = f"InternalServerError: {type(error).__name__}: {error}"
            outcome = Outcome(FAILED, FAILED, failure_reason=reason[: messages.MESSAGE_LIMIT])
        finally:
            group.kill_members()
            self._free_inputs()
        message = f"Processing job {outcome.status.lower()}"
        self._say(message + (f": {outcome.failure_reason}" if outcome.failure_reason else ""))
        for stream in self.streams.values():
            stream.close()
        self._finish(outcome, message)

    def _process(self) -> Outcome:
        self._open_streams()
        launch.check_can_run(self.run)
        for output in self.run.outputs:
            if output.uploaded:
                require_output_bucket(self.store, output.s3_uri)
        for folder in self.folders:
            folder.create([output.local_path for output in self.run.outputs if output.local_path])
            write_config_files(folder, self.run, self.hosts)
        self._enter("Downloading", "Downloading input data")
        self._download_inputs()
        if self._stopping():
            return self._stopped()
        self._enter("Processing", "Running the processing code")
        return self._run_instances()

    def _open_streams(self) -> None:
        for host in self.hosts:
            stream = f"{self.run.name}/{host}-{self.run.created_epoch}"
            self.streams[host] = self.logs.open_writer(self.run.log_group, stream)

    def _download_inputs(self) -> None:
        count = len(self.folders)
        for index, folder in enumerate(self.folders):
            for item in self.run.inputs:
                if item.app_managed or item.local_path is None:
                    self._say_on(
                        folder.host, f"input '{item.name}' is AppManaged: the code fetches it itself"
                    )
                    continue
                files = stage_channel(
                    self.store,
                    item.channel(),
                    folder.local(item.local_path),
                    index,
                    count,
                    lambda: not self._stopping(),
                )
                self._say_on(
                    folder.host,
                    f"input '{item.name}': {files} file(s) from {item.s3_uri} in {item.local_path}",
                )

    def _stopped(self) -> Outcome:
        if self.stop_reason == MAX_RUNTIME_EXCEEDED:
            reason = (
                f"MaxRuntimeExceeded: the job ran past its StoppingCondition.MaxRuntimeInSeconds "
                f"({self.run.max_runtime_seconds} s) and was stopped"
            )
            return Outcome(STOPPED, MAX_RUNTIME_EXCEEDED, failure_reason=reason)
        return Outcome(STOPPED, STOPPED)

    # --- running the code ---

    def _run_instances(self) -> Outcome:
        processes = self._start_instances()
        continuous = ContinuousUploads(self.uploader, self.run.continuous_interval_seconds)
        continuous.start()
        try:
            failed, stopped = self._supervise(processes)
        finally:
            continuous.stop()
            for process in processes:
                process.kill()
            group.kill_members()
        try:
            modes = {CONTINUOUS} if failed or stopped else {CONTINUOUS, END_OF_JOB}
            if modes == {CONTINUOUS, END_OF_JOB}:
                self._enter("Uploading", "Uploading the processing outputs")
            self._upload(modes)
        finally:
            # Every line the code printed reaches its log (and the failure reason) before it closes.
            for process in processes:
                process.finish()
        self.exit_message = messages.read_exit_message(self.folders)
        if failed is not None:
            return self._failure(failed)
        if stopped:
            return self._stopped()
        return Outcome(COMPLETED, COMPLETED)

    def _start_instances(self) -> list[HostProcess]:
        scraper = MetricScraper([])
        metrics = MetricsSink(self.job_dir / "metrics.jsonl")
        processes: list[HostProcess] = []
        for folder in self.folders:
            started = launch.launch(self.run, folder)
            self._say_on(folder.host, f"Running {' '.join(launch.command_line(self.run))}")
            process = HostProcess(
                folder.host,
                started.command,
                started.environment,
                started.cwd,
                _SharedStream(self.streams[folder.host]),
                scraper,
                metrics,
            )
            processes.append(process)
            threading.Thread(target=self._wake_on_exit, args=(process,), daemon=True).start()
        return processes

    def _wake_on_exit(self, process: HostProcess) -> None:
        process.process.wait()
        self.wake.set()

    def _supervise(self, processes: list[HostProcess]) -> tuple[HostProcess | None, bool]:
        """Wait for every instance to end: (the first that failed, whether the job was stopped)."""
        while True:
            codes = [process.poll() for process in processes]
            if self._stopping():
                self._enter("Stopping", "Stopping the processing job")
                self._end(processes)
                return None, True
            for process, code in zip(processes, codes, strict=True):
                if code not in (None, 0):
                    self._end(processes)
                    return process, False
            if all(code == 0 for code in codes):
                return None, False
            self.wake.wait(self._seconds_to_deadline())
            self.wake.clear()

    def _end(self, processes: list[HostProcess]) -> None:
        """SIGTERM to every process the code started, the grace period, then SIGKILL."""
        for process in processes:
            process.terminate()
        group.signal_members(signal.SIGTERM)
        deadline = time.time() + self.run.stop_grace_seconds
        for process in processes:
            try:
                process.process.wait(max(0.0, deadline - time.time()))
            except subprocess.TimeoutExpired:
                process.kill()

    def _failure(self, process: HostProcess) -> Outcome:
        code = process.poll()
        reason = messages.failure_reason(
            process.name,
            code if code is not None else -9,
            process.last_lines(),
            launch.command_line(self.run),
        )
        if self.exit_message is None:
            self.exit_message = reason
        return Outcome(FAILED, FAILED, failure_reason=reason)

    # --- outputs and clean-up ---

    def _upload(self, modes: set[str]) -> None:
        sent = self.uploader.upload(modes)
        if any(output.uploaded for output in self.run.outputs):
            self._say(f"Uploaded {sent} output file(s)")

    def _free_inputs(self) -> None:
        # The inputs were copied from the object store; once the job is over the copies are dead weight.
        kept = [PurePosixPath(output.local_path) for output in self.run.outputs if output.local_path]
        for item in self.run.inputs:
            if item.local_path is None or item.app_managed:
                continue
            path = PurePosixPath(item.local_path)
            if any(output == path or path in output.parents for output in kept):
                continue
            for folder in self.folders:
                shutil.rmtree(folder.local(item.local_path), ignore_errors=True)


def main(argv: list[str]) -> int:
    return run_job_process(
        argv,
        "opensage.executor.processing_runner",
        lambda job_dir: ProcessingJobRunner(read_run(job_dir)),
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
