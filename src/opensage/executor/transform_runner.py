"""The transform job process: ``python -m opensage.executor.transform_runner <job dir>`` runs one job to its end.

It lists the input, unpacks the model, starts one model server per instance, shares the
input objects among the instances and writes each object's ``.out``; then it ends
Completed, Failed or Stopped, reporting each step in ``status.json`` for the control
plane. It needs no database and no server. SIGTERM (StopTransformJob) stops sending,
drops the objects half done, keeps the ones written, and stops the model servers.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import traceback
from pathlib import Path

from opensage.errors import AlgorithmClientError, AlgorithmError, OpenSageError
from opensage.executor.job_process import run_job_process
from opensage.executor.staging import require_output_bucket
from opensage.executor.status import Outcome, RunStatus, write_status
from opensage.executor.transform.client import ModelClient
from opensage.executor.transform.inputs import InputObject, list_inputs
from opensage.executor.transform.instances import Instance, instance_ids, start_instance
from opensage.executor.transform.pipeline import InstancePipeline, Progress, TransformStopped
from opensage.executor.transform.spec import TransformRun, read_run
from opensage.logstore import open_log_store
from opensage.objects import open_object_store
from opensage.runtime.serving.artifacts import fetch_model
from opensage.runtime.train import FAILURE_REASON_LIMIT
from opensage.runtime.transform.jsonpath import parse_json_path
from opensage.runtime.transform.processing import DataProcessing, record_format
from opensage.security.keyring import open_keyring

logger = logging.getLogger("opensage.transform")

STOPPED = "Stopped"
# How long a model server gets to finish in-flight work when the job ends.
_SERVER_GRACE_SECONDS = 2.0


class TransformJobRunner:
    def __init__(self, run: TransformRun) -> None:
        self.run = run
        self.job_dir = Path(run.job_dir)
        self.status = RunStatus()
        self.store = open_object_store(run.objects_url, open_keyring(run.keyring))
        self.logs = open_log_store(Path(run.logs_root))
        self.stopping = threading.Event()
        # Set on a stop request or on the first instance's failure: every instance stops sending.
        self.halt = threading.Event()
        self.instances: list[Instance] = []

    def request_stop(self) -> None:
        self.stopping.set()
        self.halt.set()

    # --- status ---

    def _enter(self, step: str, message: str) -> None:
        self.status.enter(step, message, time.time())
        write_status(self.job_dir, self.status)

    def _finish(self, outcome: Outcome, message: str) -> None:
        self.status.enter(outcome.status, message, time.time())
        self.status.transitions[-1].end_time = time.time()
        self.status.outcome = outcome
        write_status(self.job_dir, self.status)

    def _say(self, message: str) -> None:
        logger.info("%s", message)
        for instance in self.instances:
            instance.say(message)

    # --- the job ---

    def execute(self) -> None:
        self._enter("Starting", "Preparing the instances for the transform job")
        try:
            self._transform()
            outcome, message = Outcome("Completed", "Completed"), "Transform job completed"
        except TransformStopped:
            outcome, message = Outcome(STOPPED, STOPPED), "Transform job stopped"
        except (AlgorithmClientError, AlgorithmError, OpenSageError) as error:
            kind = "AlgorithmError" if isinstance(error, AlgorithmError) else "ClientError"
            reason = f"{kind}: {error}"[:FAILURE_REASON_LIMIT]
            outcome, message = Outcome("Failed", "Failed", failure_reason=reason), "Transform job failed"
        except Exception as error:
            traceback.print_exc()
            reason = f"InternalServerError: {type(error).__name__}: {error}"[:FAILURE_REASON_LIMIT]
            outcome, message = Outcome("Failed", "Failed", failure_reason=reason), "Transform job failed"
        self._say(f"{message}{': ' + outcome.failure_reason if outcome.failure_reason else ''}")
        # Every output is written or dropped by now: report the outcome while the servers wind down.
        for instance in self.instances:
            instance.terminate()
        self._finish(outcome, message)
        for instance in self.instances:
            instance.close(_SERVER_GRACE_SECONDS)

    def _transform(self) -> None:
        run = self.run
        require_output_bucket(self.store, self.run.output_path)
        inputs = list_inputs(self.store, run.s3_data_type, run.s3_uri)
        processing = DataProcessing(
            parse_json_path(run.input_filter, "InputFilter"),
            parse_json_path(run.output_filter, "OutputFilter"),
            run.join_input,
            record_format(run.content_type),
        )
        self._start_instances()
        if self.stopping.is_set():
            raise TransformStopped
        self._enter("Transforming", "Transforming the input")
        self._say(f"{len(inputs)} input object(s) under {run.s3_uri}, {len(self.instances)} instance(s)")
        shares = [inputs[index :: len(self.instances)] for index in range(len(self.instances))]
        progress = self._run_instances(shares, processing)
        if progress.records == 0:
            raise AlgorithmClientError(
                f"The input under {run.s3_uri} holds no records: its {len(inputs)} object(s) are empty"
            )

    def _start_instances(self) -> None:
        """Start every instance's model server and wait until each answers /ping."""
        run = self.run
        cache = Path(run.model_cache_dir)
        model_dirs = [
            fetch_model(self.store, container.model_data_url, cache, container.compressed)
            for container in run.containers
        ]
        for instance_id in instance_ids(run):
            self.instances.append(start_instance(run, instance_id, model_dirs, self.logs))
        for instance in self.instances:
            problem = instance.server.wait_ready(run.server_start_timeout)
            if problem is not None:
                raise AlgorithmClientError(
                    f"The model server on {instance.instance_id} did not start: {problem}"
                )
            instance.say(f"Model server ready on {instance.instance_id}")

    def _run_instances(self, shares: list[list[InputObject]], processing: DataProcessing) -> Progress:
        errors: list[BaseException] = []
        done: list[Progress] = []

        def work(instance: Instance, share: list[InputObject]) -> None:
            client = self._client(instance)
            pipeline = InstancePipeline(self.run, self.store, client, processing, self.halt, instance.say)
            try:
                done.append(pipeline.transform(share))
            except BaseException as error:
                errors.append(error)
                self.halt.set()
            finally:
                client.close()

        threads = [
            threading.Thread(target=work, args=(instance, share), name=f"instance-{instance.instance_id}")
            for instance, share in zip(self.instances, shares, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            while thread.is_alive():
                thread.join(0.2)
        failures = [error for error in errors if not isinstance(error, TransformStopped)]
        if failures:
            raise failures[0]
        if self.stopping.is_set() or errors:
            raise TransformStopped
        total = Progress()
        for progress in done:
            total.objects += progress.objects
            total.records += progress.records
            total.requests += progress.requests
        self._say(
            f"Transformed {total.records} record(s) of {total.objects} object(s) in {total.requests} request(s)"
        )
        return total

    def _client(self, instance: Instance) -> ModelClient:
        server = instance.server
        return ModelClient(
            server.tcp_port,
            self.run.content_type,
            self.run.accept,
            self.run.invocation_timeout_seconds,
            self.run.invocation_max_retries,
            lambda: None if server.alive() else server.failure(),
        )


def main(argv: list[str]) -> int:
    return run_job_process(
        argv, "opensage.executor.transform_runner", lambda job_dir: TransformJobRunner(read_run(job_dir))
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv))
