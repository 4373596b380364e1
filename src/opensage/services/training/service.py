"""Training jobs: create, describe, list and stop them; their records follow their job processes.

What a training job adds to every job kind (``services.jobs``): resolving the built-in
algorithm, describing the run to ``opensage.executor.runner``, and SageMaker's secondary
statuses, transitions and final metrics, copied from the job process's reports.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from opensage.algorithms.registry import load_algorithm
from opensage.executor.base import Executor
from opensage.executor.jobspec import ChannelSpec, MetricSpec, TrainingRun, write_run
from opensage.executor.status import RunStatus
from opensage.naming import parse_s3_uri, sagemaker_arn
from opensage.services.documents import Documents
from opensage.services.jobs import JobService, JobStatus, from_epoch, job_stamp
from opensage.services.kms.service import KmsService, output_key_arn
from opensage.services.training.models import (
    MetricValue,
    StatusTransition,
    TrainingJob,
    TrainingJobSpec,
)
from opensage.services.training.validation import check_spec, resolve_program
from opensage.settings import Settings
from opensage.store import ResourceRepository

logger = logging.getLogger(__name__)

KIND = "training-job"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
_DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"


class TrainingService(JobService[TrainingJob]):
    kind_label = "training job"
    runner_module = "opensage.executor.runner"

    def __init__(
        self,
        settings: Settings,
        repository: ResourceRepository,
        executor: Executor,
        clock: Callable[[], datetime],
        kms: KmsService | None = None,
    ) -> None:
        super().__init__(Documents(repository, KIND, TrainingJob, job_stamp), executor, clock)
        self._settings = settings
        self._kms = kms

    def create(self, spec: TrainingJobSpec) -> TrainingJob:
        program = resolve_program(spec)
        check_spec(spec, program, self._settings.max_hosts_per_job)
        output_key_arn(self._kms, spec.output.kms_key_id, "OutputDataConfig.KmsKeyId")
        now = self._clock()
        arn = sagemaker_arn(self._settings.region, self._settings.account_id, "training-job", spec.name)
        job = TrainingJob(
            spec=spec,
            arn=arn,
            algorithm=program.algorithm,
            program=program.mode,
            framework=program.framework.value if program.framework else None,
            submit_directory=program.submit_directory,
            job_dir=str(self._settings.jobs_dir / "training" / spec.name),
            status=JobStatus.IN_PROGRESS,
            secondary_status="Starting",
            creation_time=now,
            last_modified_time=now,
            transitions=[StatusTransition("Starting", now, "Launching requested ML instances")],
        )
        return self.create_and_launch(
            job,
            spec.tags,
            "Training job names must be unique within an AWS account and region, and a training job "
            f"with this name already exists ({arn})",
        )

    # --- hooks ---

    def write_run(self, job: TrainingJob) -> None:
        write_run(self._run_for(job))

    def mark_stopping(self, job: TrainingJob) -> None:
        now = self._clock()
        job.status = JobStatus.STOPPING
        job.secondary_status = "Stopping"
        if job.transitions and job.transitions[-1].end_time is None:
            job.transitions[-1].end_time = now
        job.transitions.append(StatusTransition("Stopping", now, "Stopping the training job"))

    def copy_report(self, job: TrainingJob, report: RunStatus) -> None:
        job.transitions = [
            StatusTransition(
                t.status, from_epoch(t.start_time) or job.creation_time, t.message, from_epoch(t.end_time)
            )
            for t in report.transitions
        ]
        if report.transitions:
            job.training_start_time = from_epoch(report.transitions[0].start_time)
        outcome = report.outcome
        if outcome is None:
            if job.status != JobStatus.STOPPING:
                job.secondary_status = report.secondary_status
            return
        job.status = JobStatus(outcome.status)
        job.secondary_status = outcome.secondary_status
        job.failure_reason = outcome.failure_reason
        job.model_artifacts = outcome.model_artifacts
        job.final_metrics = [
            MetricValue(m.name, m.value, from_epoch(m.timestamp) or self._clock())
            for m in report.final_metrics
        ]
        last_end = report.transitions[-1].end_time if report.transitions else None
        job.training_end_time = from_epoch(last_end) or self._clock()

    def finish(self, job: TrainingJob, status: JobStatus, reason: str | None, message: str) -> None:
        now = self._clock()
        secondary = status.value
        if job.transitions and job.transitions[-1].end_time is None:
            job.transitions[-1].end_time = now
        job.transitions.append(StatusTransition(secondary, now, message, now))
        job.status = status
        job.secondary_status = secondary
        job.failure_reason = reason
        job.training_start_time = job.training_start_time or job.creation_time
        job.training_end_time = now

    # --- the job process's description ---

    def _run_for(self, job: TrainingJob) -> TrainingRun:
        spec = job.spec
        builtin = load_algorithm(job.algorithm).metric_definitions() if job.program == "builtin" else []
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
            program=job.program,
            framework=job.framework,
            submit_directory=job.submit_directory,
            container_entrypoint=spec.algorithm.container_entrypoint,
            container_arguments=spec.algorithm.container_arguments,
            environments_cache=str(self._settings.home / "environments"),
            output_kms_key_arn=output_key_arn(self._kms, spec.output.kms_key_id, "OutputDataConfig.KmsKeyId"),
            keyring=None if self._kms is None else self._kms.keyring_spec(),
        )
