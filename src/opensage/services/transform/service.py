"""Transform jobs: create, describe, list and stop them, and keep their recorded state true.

A job is a row in the metadata store plus a job process (``opensage.executor.transform_runner``)
started by the executor. The job process reports through ``status.json``; ``reconcile``
(run by the platform's reconciler) copies those reports into the store and notices a job
process that died without reporting. Because that works from files alone, a restarted
server picks up jobs that kept running, records those that ended, and relaunches a job
whose process never began (``recover``).
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from opensage.clock import utcnow
from opensage.errors import AlreadyExistsError, JobNotFoundError, ValidationError
from opensage.executor.base import Executor
from opensage.executor.status import RunStatus
from opensage.executor.transform.spec import ServedContainer, TransformRun, write_run
from opensage.naming import sagemaker_arn
from opensage.runtime.transform.records import MIB
from opensage.services.documents import Documents, Stamp
from opensage.services.hosting.model_service import ModelService
from opensage.services.hosting.models import ContainerDefinition
from opensage.services.transform.models import (
    ACTIVE_STATUSES,
    TransformJob,
    TransformJobSpec,
    TransformJobStatus,
)
from opensage.services.transform.validation import check_spec
from opensage.services.transform.watch import ProcessState, StatusWatch
from opensage.settings import Settings
from opensage.store import ListQuery, ResourceRepository

logger = logging.getLogger(__name__)

KIND = "transform-job"
LOG_GROUP = "/aws/sagemaker/TransformJobs"
RUNNER_MODULE = "opensage.executor.transform_runner"
# A job process that dies before it writes its first status is started again this often.
_MAX_LAUNCHES = 2


def _stamp(job: TransformJob) -> Stamp:
    return Stamp(job.name, job.arn, job.status.value, job.creation_time, job.last_modified_time)


def _from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


class TransformService:
    def __init__(
        self,
        settings: Settings,
        repository: ResourceRepository,
        executor: Executor,
        models: ModelService,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._settings = settings
        self._executor = executor
        self._models = models
        self._clock = clock
        self.documents = Documents(repository, KIND, TransformJob, _stamp)
        self._watch = StatusWatch(executor)
        self._reconcile_lock = threading.Lock()
        # Jobs this process is starting right now; reconcile leaves them to their launcher.
        self._launching: set[str] = set()
        self._launching_lock = threading.Lock()

    def arn(self, name: str) -> str:
        return sagemaker_arn(self._settings.region, self._settings.account_id, KIND, name)

    # --- the API ---

    def create(self, spec: TransformJobSpec) -> TransformJob:
        model = self._models.describe(spec.model_name)
        check_spec(spec, model, self._settings.max_hosts_per_job)
        now = self._clock()
        job = TransformJob(
            spec=spec,
            arn=self.arn(spec.name),
            job_dir=str(self._settings.jobs_dir / "transform" / spec.name),
            status=TransformJobStatus.IN_PROGRESS,
            creation_time=now,
            last_modified_time=now,
            model_arn=model.arn,
            containers=list(model.containers),
        )
        with self._launching_lock:
            self._launching.add(spec.name)
        try:
            try:
                self.documents.create(job, spec.tags)
            except AlreadyExistsError as exc:
                raise AlreadyExistsError(
                    "Transform job names must be unique within an AWS account and region, and a transform "
                    f"job with this name already exists ({job.arn})"
                ) from exc
            return self._launch(job)
        finally:
            with self._launching_lock:
                self._launching.discard(spec.name)

    def describe(self, name: str) -> TransformJob:
        found = self.documents.get(name)
        if found is None:
            raise JobNotFoundError(f"Requested resource not found: transform job {name} does not exist.")
        return found

    def list_jobs(self, query: ListQuery) -> tuple[list[TransformJob], str | None]:
        return self.documents.page(query)

    def stop(self, name: str) -> None:
        job = self.describe(name)
        if job.status == TransformJobStatus.STOPPING:
            return
        if job.status != TransformJobStatus.IN_PROGRESS:
            raise ValidationError(
                f"The transform job {name} is {job.status.value}; only an InProgress job can be stopped"
            )

        def mark_stopping(current: TransformJob) -> None:
            if current.status == TransformJobStatus.IN_PROGRESS:
                current.status = TransformJobStatus.STOPPING
                current.last_modified_time = self._clock()

        self.documents.update(name, mark_stopping)
        self._executor.stop(Path(job.job_dir))

    # --- keeping the store true ---

    def reconcile(self) -> None:
        """Bring every active job's record up to date with its job process."""
        with self._reconcile_lock:
            for job in self.documents.with_status([status.value for status in ACTIVE_STATUSES]):
                try:
                    self._reconcile_job(job)
                except Exception:
                    logger.exception("could not reconcile transform job %s", job.name)

    def recover(self) -> None:
        """After a restart: record jobs that ended meanwhile, relaunch those that never started."""
        self.reconcile()

    def shutdown(self, timeout: float) -> None:
        """Stop every running job, wait up to ``timeout`` for them to report, then end the rest."""
        for job in self.documents.with_status([TransformJobStatus.IN_PROGRESS.value]):
            try:
                self.stop(job.name)
            except ValidationError:
                continue
        deadline = time.monotonic() + timeout
        active = [status.value for status in ACTIVE_STATUSES]
        while time.monotonic() < deadline:
            self.reconcile()
            if not self.documents.with_status(active):
                return
            time.sleep(0.1)
        for job in self.documents.with_status(active):
            self._executor.kill(Path(job.job_dir))
            self._end(job.name, TransformJobStatus.STOPPED, None)

    # --- internals ---

    def _launch(self, job: TransformJob) -> TransformJob:
        job_dir = Path(job.job_dir)
        if job.launches == 0 and job_dir.exists():
            # Left by an earlier job of the same name whose record is gone (a wiped database).
            shutil.rmtree(job_dir)
        try:
            write_run(self._run_for(job))
            self._executor.launch(job_dir, module=RUNNER_MODULE)
        except Exception as exc:
            logger.exception("could not start transform job %s", job.name)
            self._end(job.name, TransformJobStatus.FAILED, f"InternalServerError: {exc}")
            return self.describe(job.name)

        def count_launch(current: TransformJob) -> None:
            current.launches += 1

        return self.documents.update(job.name, count_launch)

    def _run_for(self, job: TransformJob) -> TransformRun:
        spec = job.spec
        processing = spec.effective_data_processing
        client = spec.effective_model_client
        return TransformRun(
            name=spec.name,
            arn=job.arn,
            job_dir=job.job_dir,
            objects_url=self._settings.resolved_objects_url,
            logs_root=str(self._settings.logs_dir),
            log_group=LOG_GROUP,
            created_epoch=int(job.creation_time.timestamp()),
            instance_count=spec.resources.instance_count,
            instance_type=spec.resources.instance_type,
            containers=[self._served(container, spec) for container in job.containers],
            # The folder endpoints unpack models into: a model used by both is unpacked once.
            model_cache_dir=str(self._settings.home / "serving" / "models"),
            s3_data_type=spec.input.s3_data_type,
            s3_uri=spec.input.s3_uri,
            output_path=spec.output.s3_output_path,
            content_type=spec.input.content_type,
            compression=spec.input.compression or "None",
            split_type=spec.input.effective_split,
            accept=spec.output.accept,
            assemble_with=spec.output.assemble_with or "None",
            multi_record=spec.multi_record,
            max_payload_bytes=spec.effective_payload_mb * MIB,
            max_concurrent=spec.effective_concurrency,
            input_filter=processing.input_filter,
            output_filter=processing.output_filter,
            join_input=processing.joins_input,
            invocation_timeout_seconds=client.invocations_timeout_seconds,
            invocation_max_retries=client.invocations_max_retries,
            server_start_timeout=self._settings.model_server_start_timeout,
            stop_grace_seconds=self._settings.stop_grace_seconds,
        )

    @staticmethod
    def _served(container: ContainerDefinition, spec: TransformJobSpec) -> ServedContainer:
        # The job's Environment wins over the model's, and every container knows it runs in batch.
        environment = {**container.environment, **spec.environment, "SAGEMAKER_BATCH": "true"}
        return ServedContainer(
            algorithm=container.algorithm,
            model_data_url=container.model_data_url or "",
            compressed=container.model_data_compressed,
            environment=environment,
            hostname=container.hostname,
        )

    def _reconcile_job(self, job: TransformJob) -> None:
        with self._launching_lock:
            if job.name in self._launching:
                return
        observed = self._watch.observe(job.name, Path(job.job_dir))
        if observed.report is not None:
            self._apply(job.name, observed.report)
        if observed.state == ProcessState.NEVER_STARTED and job.launches < _MAX_LAUNCHES:
            logger.warning("transform job %s never started; starting it again", job.name)
            self._launch(job)
        elif observed.state in (ProcessState.NEVER_STARTED, ProcessState.VANISHED):
            if job.status == TransformJobStatus.STOPPING:
                self._end(job.name, TransformJobStatus.STOPPED, None)
            else:
                self._end(
                    job.name,
                    TransformJobStatus.FAILED,
                    "InternalServerError: the transform job's process ended without reporting how the job "
                    f"ended (for example, it was killed); its own log is {Path(job.job_dir) / 'runner.log'}",
                )

    def _apply(self, name: str, report: RunStatus) -> None:
        def copy_report(job: TransformJob) -> None:
            if job.status.is_terminal():
                return
            if report.transitions:
                job.start_time = _from_epoch(report.transitions[0].start_time)
            outcome = report.outcome
            if outcome is None:
                return
            job.status = TransformJobStatus(outcome.status)
            job.failure_reason = outcome.failure_reason
            last_end = report.transitions[-1].end_time if report.transitions else None
            job.end_time = _from_epoch(last_end) or self._clock()
            job.last_modified_time = self._clock()

        self.documents.update(name, copy_report)

    def _end(self, name: str, status: TransformJobStatus, reason: str | None) -> None:
        def finish(job: TransformJob) -> None:
            if job.status.is_terminal():
                return
            now = self._clock()
            job.status = status
            job.failure_reason = reason
            job.start_time = job.start_time or job.creation_time
            job.end_time = now
            job.last_modified_time = now

        self.documents.update(name, finish)
