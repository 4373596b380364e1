"""The job process: ``python -m opensage.executor.runner <job dir>`` runs one training job to its end.

It walks SageMaker's secondary statuses — Starting, Downloading, Training, Uploading — and
ends Completed, Failed or Stopped, writing each step to ``status.json`` for the control
plane. It needs no database and no server: if the server dies, the job carries on and the
restarted server reads how it ended. SIGTERM (StopTrainingJob) and MaxRuntimeInSeconds stop
the hosts, give them a grace period, and still upload whatever model they saved.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from pathlib import Path

from opensage.errors import AlgorithmClientError
from opensage.executor import programs
from opensage.executor.hosts import HostProcess, MetricsSink
from opensage.executor.job_process import run_job_process
from opensage.executor.jobspec import TrainingRun, read_run
from opensage.executor.packing import download_tree, merged_files, upload_archive, upload_tree
from opensage.executor.staging import require_output_bucket, stage_channel
from opensage.executor.status import Outcome, RunStatus, write_status
from opensage.logstore import open_log_store
from opensage.logstore.base import LogWriter
from opensage.naming import parse_s3_uri
from opensage.objects import open_object_store
from opensage.runtime.environment import HostEnvironment
from opensage.runtime.layout import HostLayout
from opensage.runtime.metrics import MetricScraper
from opensage.runtime.train import FAILURE_REASON_LIMIT
from opensage.security.keyring import open_keyring

logger = logging.getLogger("opensage.runner")

STOPPED = "Stopped"
MAX_RUNTIME_EXCEEDED = "MaxRuntimeExceeded"


class TrainingJobRunner:
    def __init__(self, run: TrainingRun) -> None:
        self.run = run
        self.job_dir = Path(run.job_dir)
        self.status = RunStatus()
        self.store = open_object_store(run.objects_url, open_keyring(run.keyring))
        self.logs = open_log_store(Path(run.logs_root))
        self.hosts = [f"algo-{i + 1}" for i in range(run.instance_count)]
        self.layouts = [HostLayout(self.job_dir / host) for host in self.hosts]
        self.started = time.time()
        self.stop_reason: str | None = None
        self.wake = threading.Event()
        self.streams: list[LogWriter] = []
        self.environments: list[HostEnvironment] = []
        self._metrics = MetricsSink(self.job_dir / "metrics.jsonl")

    # --- stopping ---

    def request_stop(self, reason: str = STOPPED) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.wake.set()

    def _stopping(self) -> bool:
        if self.stop_reason is None and self._past_deadline():
            self.request_stop(MAX_RUNTIME_EXCEEDED)
        return self.stop_reason is not None

    def _past_deadline(self) -> bool:
        limit = self.run.max_runtime_seconds
        return limit is not None and time.time() - self.started >= limit

    # --- status ---

    def _enter(self, secondary: str, message: str) -> None:
        self.status.enter(secondary, message, time.time())
        write_status(self.job_dir, self.status)

    def _finish(self, outcome: Outcome, message: str) -> None:
        if self.status.transitions and self.status.transitions[-1].status == outcome.secondary_status:
            self.status.transitions[-1].message = message
        else:
            self.status.enter(outcome.secondary_status, message, time.time())
        self.status.transitions[-1].end_time = time.time()
        self.status.secondary_status = outcome.secondary_status
        self.status.outcome = outcome
        write_status(self.job_dir, self.status)

    def _say(self, message: str) -> None:
        """A platform line in algo-1's log, so users see what happens before and after training."""
        if self.streams:
            self.streams[0].write(f"[opensage] {message}")

    # --- the job ---

    def execute(self) -> None:
        self._enter("Starting", "Preparing the instances for training")
        try:
            self._open_streams()
            require_output_bucket(self.store, self.run.output_uri)
            programs.check_can_run(self.run)
            self._prepare_hosts()
            self._enter("Downloading", "Downloading input data")
            self._stage_inputs()
            programs.stage_code(self.store, self.run, self.layouts, self._say)
            if self._stopping():
                self._finish(Outcome(STOPPED, self.stop_reason or STOPPED), "Training job stopped")
                return
            self._enter("Training", "Training image download completed. Training in progress.")
            self.status.training_start_time = time.time()
            failure = self._train()
            self.status.training_end_time = time.time()
            self.status.final_metrics = self._metrics.latest()
            if failure is not None:
                self._say(f"Training failed: {failure}")
                self._finish(Outcome("Failed", "Failed", failure_reason=failure), "Training job failed")
                return
            self._complete()
        except AlgorithmClientError as error:
            self._say(f"ClientError: {error}")
            reason = f"ClientError: {error}"[:FAILURE_REASON_LIMIT]
            self._finish(Outcome("Failed", "Failed", failure_reason=reason), "Training job failed")
        except Exception as error:
            traceback.print_exc()
            reason = f"InternalServerError: {type(error).__name__}: {error}"[:FAILURE_REASON_LIMIT]
            self._finish(Outcome("Failed", "Failed", failure_reason=reason), "Training job failed")
        finally:
            for stream in self.streams:
                stream.close()
            self._free_inputs()

    def _complete(self) -> None:
        stopped = self._stopping()
        self._enter("Uploading", "Uploading generated training model")
        artifacts = self._upload(include_empty_model=not stopped)
        if stopped:
            reason = self.stop_reason or STOPPED
            message = (
                f"Training job stopped: MaxRuntimeInSeconds ({self.run.max_runtime_seconds} s) exceeded"
                if reason == MAX_RUNTIME_EXCEEDED
                else "Training job stopped"
            )
            self._finish(Outcome(STOPPED, reason, model_artifacts=artifacts), message)
        else:
            self._finish(
                Outcome("Completed", "Completed", model_artifacts=artifacts), "Training job completed"
            )

    def _open_streams(self) -> None:
        for host in self.hosts:
            stream = f"{self.run.name}/{host}-{self.run.created_epoch}"
            self.streams.append(self.logs.open_writer(self.run.log_group, stream))

    def _prepare_hosts(self) -> None:
        input_data_config = {
            channel.name: {
                "ContentType": channel.content_type,
                "TrainingInputMode": channel.input_mode,
                "S3DistributionType": channel.distribution,
                "RecordWrapperType": channel.record_wrapper,
                "CompressionType": channel.compression,
            }
            for channel in self.run.channels
        }
        for channel_config in input_data_config.values():
            if channel_config["ContentType"] is None:
                del channel_config["ContentType"]
        for host, layout in zip(self.hosts, self.layouts, strict=True):
            layout.create()
            environment = HostEnvironment(
                layout=programs.visible_layout(self.run, layout),
                job_name=self.run.name,
                job_arn=self.run.arn,
                hyperparameters=self.run.hyperparameters,
                input_data_config=input_data_config,
                hosts=self.hosts,
                current_host=host,
                instance_type=self.run.instance_type,
                num_cpus=_cpus_per_host(len(self.hosts)),
                master_port=self.run.master_port,
                user_environment=self.run.environment,
            )
            layout.write_config(self.run.hyperparameters, input_data_config, environment.resource_config)
            self.environments.append(environment)

    def _stage_inputs(self) -> None:
        count = len(self.hosts)
        for index, layout in enumerate(self.layouts):
            for channel in self.run.channels:
                files = stage_channel(
                    self.store,
                    channel,
                    # Pipe mode: the host's feeder streams these files into <channel>_<epoch> FIFOs.
                    layout.pipe_source(channel.name)
                    if channel.input_mode == "Pipe"
                    else layout.channel_dir(channel.name),
                    index,
                    count,
                    lambda: not self._stopping(),
                )
                self._say(
                    f"{self.hosts[index]}: channel '{channel.name}': {files} file(s) from {channel.s3_uri}"
                )
            if self.run.checkpoint_uri:
                restored = download_tree(
                    self.store, parse_s3_uri(self.run.checkpoint_uri), layout.checkpoint_dir
                )
                if restored:
                    self._say(f"{self.hosts[index]}: restored {restored} checkpoint file(s)")

    # --- training ---

    def _train(self) -> str | None:
        """Run every host to its end; the failure reason of the first host that failed, if any."""
        definitions = [(metric.name, metric.regex) for metric in self.run.metric_definitions]
        scraper = MetricScraper(definitions)
        processes: list[HostProcess] = []
        try:
            for host, layout, environment, stream in zip(
                self.hosts, self.layouts, self.environments, self.streams, strict=True
            ):
                started = programs.launch(self.run, host, layout, environment, self._say)
                processes.append(
                    HostProcess(
                        host,
                        started.command,
                        started.environment,
                        started.cwd,
                        stream,
                        scraper,
                        self._metrics,
                    )
                )
                threading.Thread(target=self._wake_on_exit, args=(processes[-1],), daemon=True).start()
            return self._supervise(processes)
        finally:
            for process in processes:
                process.kill()
                process.finish()
            self.streams = []

    def _wake_on_exit(self, host: HostProcess) -> None:
        host.process.wait()
        self.wake.set()

    def _supervise(self, processes: list[HostProcess]) -> str | None:
        while True:
            codes = [process.poll() for process in processes]
            if self._stopping():
                self._enter("Stopping", "Stopping the training job")
                self._end(processes)
                return None
            for process, code in zip(processes, codes, strict=True):
                if code not in (None, 0):
                    self._end(processes)
                    return self._failure_reason(process, code)
            if all(code == 0 for code in codes):
                return None
            self.wake.wait(self._seconds_to_deadline())
            self.wake.clear()

    def _seconds_to_deadline(self) -> float:
        limit = self.run.max_runtime_seconds
        if limit is None:
            return 1.0
        return max(0.0, min(1.0, self.started + limit - time.time()))

    def _end(self, processes: list[HostProcess]) -> None:
        for process in processes:
            process.terminate()
        deadline = time.time() + self.run.stop_grace_seconds
        for process in processes:
            try:
                process.process.wait(max(0.0, deadline - time.time()))
            except subprocess.TimeoutExpired:
                process.kill()

    def _failure_reason(self, process: HostProcess, code: int) -> str:
        layout = self.layouts[self.hosts.index(process.name)]
        if layout.failure_file.exists():
            written = layout.failure_file.read_text(errors="replace").strip()
            if written:
                return written[:FAILURE_REASON_LIMIT]
        if code < 0:
            name = _signal_name(-code)
            detail = " (out of memory?)" if -code == signal.SIGKILL else ""
            return f"AlgorithmError: the training process on {process.name} was killed by {name}{detail}"[
                :FAILURE_REASON_LIMIT
            ]
        last = process.last_lines()[-1:] or ["no output"]
        return f"AlgorithmError: the training process on {process.name} exited with code {code}: {last[0]}"[
            :FAILURE_REASON_LIMIT
        ]

    # --- after training ---

    def _upload(self, include_empty_model: bool) -> str | None:
        output = parse_s3_uri(self.run.output_uri)
        model_files = merged_files(layout.model_dir for layout in self.layouts)
        artifacts: str | None = None
        if model_files or include_empty_model:
            if self.run.output_compression == "NONE":
                artifacts = upload_tree(
                    self.store, model_files, output.join("model"), self.run.output_kms_key_arn
                )
            else:
                artifacts = upload_archive(
                    self.store,
                    model_files,
                    self.job_dir,
                    output.join("model.tar.gz"),
                    self.run.output_kms_key_arn,
                )
            self._say(f"Model artifacts: {artifacts}")
        output_files = merged_files(layout.output_data_dir for layout in self.layouts)
        if output_files:
            target = output.join("output.tar.gz")
            upload_archive(self.store, output_files, self.job_dir, target, self.run.output_kms_key_arn)
        if self.run.checkpoint_uri:
            checkpoints = parse_s3_uri(self.run.checkpoint_uri)
            for layout in self.layouts:
                upload_tree(self.store, merged_files([layout.checkpoint_dir]), checkpoints)
        return artifacts

    def _free_inputs(self) -> None:
        # The data was copied from the object store; once the job is over the copy is dead weight.
        for layout in self.layouts:
            shutil.rmtree(layout.data_dir, ignore_errors=True)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _cpus_per_host(hosts: int) -> int:
    return max(1, (os.cpu_count() or 1) // hosts)


def main(argv: list[str]) -> int:
    return run_job_process(
        argv, "opensage.executor.runner", lambda job_dir: TrainingJobRunner(read_run(job_dir))
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
