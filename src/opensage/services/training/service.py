"""Training jobs: create, describe, list and stop them, and keep their recorded state true.

A job is a row in the metadata store plus a job process started by the executor. The job
process reports through ``status.json`` in its job directory; ``reconcile`` (run every
``job_poll_interval`` by the platform) copies those reports into the store, and notices a
job process that died without reporting. Because that works from files alone, a restarted
server picks up jobs that kept running while it was away, records those that ended, and
relaunches a job whose process never began.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import TypeAdapter

from opensage.algorithms.registry import load_algorithm
from opensage.errors import AlreadyExistsError, JobNotFoundError, ValidationError
from opensage.executor.base import Executor
from opensage.executor.jobspec import ChannelSpec, MetricSpec, TrainingRun, write_run
from opensage.executor.status import STATUS_FILE, RunStatus, read_status
from opensage.naming import parse_s3_uri, sagemaker_arn
from opensage.services.training.models import (
    ACTIVE_STATUSES,
    MetricValue,
    StatusTransition,
    TrainingJob,
    TrainingJobSpec,
    TrainingJobStatus,
)
from opensage.services.training.validation import check_spec, resolve_algorithm
from opensage.settings import Settings
from opensage.store import ListQuery, ResourceRecord, ResourceRepository

logger = logging.getLogger(__name__)

KIND = "training-job"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
_DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"
# A job process that dies before it writes its first status is started again this often.
_MAX_LAUNCHES = 2
_JOB_ADAPTER: TypeAdapter[TrainingJob] = TypeAdapter(TrainingJob)


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _from_epoch(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, tz=UTC)


class TrainingService:
    def __init__(
        self,
        settings: Settings,
        repository: ResourceRepository,
        executor: Executor,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._settings = settings
        self._repository = repository
        self._executor = executor
        self._clock = clock
        # Job name -> (mtime_ns, size) of the status file last copied into the store.
        self._seen: dict[str, tuple[int, int]] = {}
        self._reconcile_lock = threading.Lock()
        # Jobs this process is starting right now; reconcile leaves them to their launcher.
        self._launching: set[str] = set()
        self._launching_lock = threading.Lock()

    # --- the API ---

    def create(self, spec: TrainingJobSpec) -> TrainingJob:
        algorithm = resolve_algorithm(spec)
        check_spec(spec, algorithm, self._settings.max_hosts_per_job)
        now = self._clock()
        arn = sagemaker_arn(self._settings.region, self._settings.account_id, "training-job", spec.name)
        job = TrainingJob(
            spec=spec,
            arn=arn,
            algorithm=algorithm,
            job_dir=str(self._settings.jobs_dir / "training" / spec.name),
            status=TrainingJobStatus.IN_PROGRESS,
            secondary_status="Starting",
            creation_time=now,
            last_modified_time=now,
            transitions=[StatusTransition("Starting", now, "Launching requested ML instances")],
        )
        with self._launching_lock:
            self._launching.add(spec.name)
        try:
            try:
                self._repository.create(self._record(job), spec.tags)
            except AlreadyExistsError as exc:
                raise AlreadyExistsError(
                    "Training job names must be unique within an AWS account and region, and a training job "
                    f"with this name already exists ({arn})"
                ) from exc
            return self._launch(job)
        finally:
            with self._launching_lock:
                self._launching.discard(spec.name)

    def describe(self, name: str) -> TrainingJob:
        record = self._repository.get(KIND, name)
        if record is None:
            raise JobNotFoundError(f"Requested resource not found: training job {name} does not exist.")
        return self._load(record)

    def list_jobs(self, query: ListQuery) -> tuple[list[TrainingJob], str | None]:
        page = self._repository.list_page(KIND, query)
        return [self._load(record) for record in page.records], page.next_token

    def stop(self, name: str) -> None:
        job = self.describe(name)
        if job.status == TrainingJobStatus.STOPPING:
            return
        if job.status != TrainingJobStatus.IN_PROGRESS:
            raise ValidationError(
                f"The training job {name} is {job.status.value}; only an InProgress job can be stopped"
            )

        def mark_stopping(current: TrainingJob) -> None:
            if current.status != TrainingJobStatus.IN_PROGRESS:
                return
            now = self._clock()
            current.status = TrainingJobStatus.STOPPING
            current.secondary_status = "Stopping"
            if current.transitions and current.transitions[-1].end_time is None:
                current.transitions[-1].end_time = now
            current.transitions.append(StatusTransition("Stopping", now, "Stopping the training job"))

        self._change(name, mark_stopping)
        self._executor.stop(Path(job.job_dir))

    # --- keeping the store true ---

    def reconcile(self) -> None:
        """Bring every active job's record up to date with its job process."""
        with self._reconcile_lock:
            for record in self._repository.with_status(KIND, [status.value for status in ACTIVE_STATUSES]):
                try:
                    self._reconcile_job(self._load(record))
                except Exception:
                    logger.exception("could not reconcile training job %s", record.name)

    def shutdown(self, timeout: float) -> None:
        """Stop every running job, wait up to ``timeout`` for them to report, then end the rest."""
        active = self._repository.with_status(KIND, [TrainingJobStatus.IN_PROGRESS.value])
        for record in active:
            try:
                self.stop(record.name)
            except ValidationError:
                continue
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.reconcile()
            if not self._repository.with_status(KIND, [status.value for status in ACTIVE_STATUSES]):
                return
            time.sleep(0.1)
        for record in self._repository.with_status(KIND, [status.value for status in ACTIVE_STATUSES]):
            job = self._load(record)
            self._executor.kill(Path(job.job_dir))
            self._end(
                job.name, TrainingJobStatus.STOPPED, "Stopped", "Stopped when the opensage server shut down"
            )

    # --- internals ---

    def _launch(self, job: TrainingJob) -> TrainingJob:
        job_dir = Path(job.job_dir)
        if job.launches == 0 and job_dir.exists():
            # Left by an earlier job of the same name whose record is gone (a wiped database).
            shutil.rmtree(job_dir)
        try:
            write_run(self._run_for(job))
            self._executor.launch(job_dir)
        except Exception as exc:
            logger.exception("could not start training job %s", job.name)
            self._end(
                job.name,
                TrainingJobStatus.FAILED,
                "Failed",
                "Training job failed",
                f"InternalServerError: {exc}",
            )
            return self.describe(job.name)

        def count_launch(current: TrainingJob) -> None:
            current.launches += 1

        return self._change(job.name, count_launch)

    def _run_for(self, job: TrainingJob) -> TrainingRun:
        spec = job.spec
        builtin = load_algorithm(job.algorithm).metric_definitions()
        metrics = [MetricSpec(d.name, d.regex) for d in builtin]
        metrics += [MetricSpec(d.name, d.regex) for d in spec.algorithm.metric_definitions]
        input_mode = spec.algorithm.training_input_mode
        return TrainingRun(
            name=spec.name,
            arn=job.arn,
            job_dir=job.job_dir,
            objects_url=self._settings.resolved_objects_url,
            logs_root=str(self._settings.logs_dir),
            log_group=LOG_GROUP,
            created_epoch=int(job.creation_time.timestamp()),
            instance_count=spec.resources.instance_count,
            instance_type=spec.resources.instance_type or _DEFAULT_INSTANCE_TYPE,
            algorithm=job.algorithm,
            hyperparameters=dict(spec.hyperparameters),
            channels=[
                ChannelSpec(
                    name=channel.name,
                    s3_data_type=channel.data_source.s3_data_type,
                    s3_uri=channel.data_source.s3_uri,
                    distribution=channel.data_source.distribution or "FullyReplicated",
                    content_type=channel.content_type,
                    compression=channel.compression or "None",
                    record_wrapper=channel.record_wrapper or "None",
                    input_mode=channel.input_mode or input_mode,
                )
                for channel in spec.channels
            ],
            output_uri=str(parse_s3_uri(spec.output.s3_output_path).join(spec.name, "output")),
            output_compression=spec.output.compression_type or "GZIP",
            environment=dict(spec.environment),
            metric_definitions=metrics,
            max_runtime_seconds=spec.stopping.max_runtime_seconds,
            checkpoint_uri=spec.checkpoint.s3_uri if spec.checkpoint else None,
            checkpoint_local_path=spec.checkpoint.local_path if spec.checkpoint else None,
            master_port=self._executor.reserve_port() if spec.resources.instance_count > 1 else 0,
            stop_grace_seconds=self._settings.stop_grace_seconds,
        )

    def _reconcile_job(self, job: TrainingJob) -> None:
        with self._launching_lock:
            if job.name in self._launching:
                return
        job_dir = Path(job.job_dir)
        stamp = _stamp(job_dir / STATUS_FILE)
        if stamp is not None and stamp != self._seen.get(job.name):
            status = read_status(job_dir)
            if status is not None:
                self._apply(job.name, status)
                self._seen[job.name] = stamp
                if status.outcome is not None:
                    self._seen.pop(job.name, None)
                    return
        if self._executor.is_alive(job_dir):
            return
        # The job process is gone. It may have written its outcome just now: read once more.
        status = read_status(job_dir)
        if status is not None and status.outcome is not None:
            self._apply(job.name, status)
            self._seen.pop(job.name, None)
        elif status is None and job.launches < _MAX_LAUNCHES:
            logger.warning("training job %s never started; starting it again", job.name)
            self._launch(job)
        elif job.status == TrainingJobStatus.STOPPING:
            self._end(job.name, TrainingJobStatus.STOPPED, "Stopped", "Training job stopped")
        else:
            self._end(
                job.name,
                TrainingJobStatus.FAILED,
                "Failed",
                "Training job failed",
                "InternalServerError: the training job's process ended without reporting how the job ended "
                f"(for example, it was killed); its own log is {job_dir / 'runner.log'}",
            )

    def _apply(self, name: str, status: RunStatus) -> None:
        def copy_report(job: TrainingJob) -> None:
            if job.status.is_terminal():
                return
            job.transitions = [
                StatusTransition(
                    t.status,
                    _from_epoch(t.start_time) or job.creation_time,
                    t.message,
                    _from_epoch(t.end_time),
                )
                for t in status.transitions
            ]
            if status.transitions:
                job.training_start_time = _from_epoch(status.transitions[0].start_time)
            outcome = status.outcome
            if outcome is None:
                if job.status != TrainingJobStatus.STOPPING:
                    job.secondary_status = status.secondary_status
                return
            job.status = TrainingJobStatus(outcome.status)
            job.secondary_status = outcome.secondary_status
            job.failure_reason = outcome.failure_reason
            job.model_artifacts = outcome.model_artifacts
            job.final_metrics = [
                MetricValue(m.name, m.value, _from_epoch(m.timestamp) or self._clock())
                for m in status.final_metrics
            ]
            last_end = status.transitions[-1].end_time if status.transitions else None
            job.training_end_time = _from_epoch(last_end) or self._clock()

        self._change(name, copy_report)

    def _end(
        self, name: str, status: TrainingJobStatus, secondary: str, message: str, reason: str | None = None
    ) -> None:
        def finish(job: TrainingJob) -> None:
            if job.status.is_terminal():
                return
            now = self._clock()
            if job.transitions and job.transitions[-1].end_time is None:
                job.transitions[-1].end_time = now
            job.transitions.append(StatusTransition(secondary, now, message, now))
            job.status = status
            job.secondary_status = secondary
            job.failure_reason = reason
            job.training_start_time = job.training_start_time or job.creation_time
            job.training_end_time = now

        self._change(name, finish)

    def _change(self, name: str, change: Callable[[TrainingJob], None]) -> TrainingJob:
        def on_record(record: ResourceRecord) -> None:
            job = self._load(record)
            change(job)
            job.last_modified_time = self._clock()
            record.status = job.status.value
            record.last_modified_time = job.last_modified_time
            record.document = _JOB_ADAPTER.dump_python(job, mode="json")

        return self._load(self._repository.update(KIND, name, on_record))

    def _record(self, job: TrainingJob) -> ResourceRecord:
        return ResourceRecord(
            kind=KIND,
            name=job.name,
            arn=job.arn,
            status=job.status.value,
            creation_time=job.creation_time,
            last_modified_time=job.last_modified_time,
            document=_JOB_ADAPTER.dump_python(job, mode="json"),
        )

    @staticmethod
    def _load(record: ResourceRecord) -> TrainingJob:
        return _JOB_ADAPTER.validate_python(record.document)


def _stamp(path: Path) -> tuple[int, int] | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_mtime_ns, stat.st_size
