"""Processing jobs: create, describe, list and stop them; their records follow their job processes.

What a processing job adds to every job kind (``services.jobs``): the framework image its
code runs in place of, the description of its run for
``opensage.executor.processing_runner``, and ExitMessage, copied with the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from opensage.clock import utcnow
from opensage.executor.base import Executor
from opensage.executor.processing.messages import read_job_exit_message
from opensage.executor.processing.spec import InputRun, OutputRun, ProcessingRun, write_run
from opensage.executor.status import RunStatus
from opensage.naming import sagemaker_arn
from opensage.services.documents import Documents
from opensage.services.jobs import JobService, JobStatus, from_epoch, job_stamp
from opensage.services.kms.service import KmsService, output_key_arn
from opensage.services.processing.models import (
    ProcessingInputSpec,
    ProcessingJob,
    ProcessingJobSpec,
    ProcessingOutputSpec,
)
from opensage.services.processing.validation import check_spec, container_path
from opensage.settings import Settings
from opensage.store import ResourceRepository

KIND = "processing-job"
LOG_GROUP = "/aws/sagemaker/ProcessingJobs"
RUNNER_MODULE = "opensage.executor.processing_runner"
# What an instance is called when ClusterConfig leaves InstanceType out.
_DEFAULT_INSTANCE_TYPE = "ml.m5.xlarge"


class ProcessingService(JobService[ProcessingJob]):
    kind_label = "processing job"
    runner_module = RUNNER_MODULE

    def __init__(
        self,
        settings: Settings,
        repository: ResourceRepository,
        executor: Executor,
        clock: Callable[[], datetime] = utcnow,
        kms: KmsService | None = None,
    ) -> None:
        super().__init__(Documents(repository, KIND, ProcessingJob, job_stamp), executor, clock)
        self._settings = settings
        self._kms = kms

    def arn(self, name: str) -> str:
        return sagemaker_arn(self._settings.region, self._settings.account_id, KIND, name)

    def create(self, spec: ProcessingJobSpec) -> ProcessingJob:
        framework = check_spec(spec, self._settings.max_hosts_per_job)
        output_key_arn(self._kms, spec.output_kms_key_id, "ProcessingOutputConfig.KmsKeyId")
        now = self._clock()
        job = ProcessingJob(
            spec=spec,
            arn=self.arn(spec.name),
            job_dir=str(self._settings.jobs_dir / "processing" / spec.name),
            status=JobStatus.IN_PROGRESS,
            creation_time=now,
            last_modified_time=now,
            framework=framework.framework.value,
        )
        return self.create_and_launch(
            job,
            spec.tags,
            "Processing job names must be unique within an AWS account and region, and a processing "
            f"job with this name already exists ({job.arn})",
        )

    # --- hooks ---

    def write_run(self, job: ProcessingJob) -> None:
        write_run(self._run_for(job))

    def copy_report(self, job: ProcessingJob, report: RunStatus) -> None:
        if report.transitions:
            job.start_time = from_epoch(report.transitions[0].start_time)
        outcome = report.outcome
        if outcome is None:
            return
        job.status = JobStatus(outcome.status)
        job.failure_reason = outcome.failure_reason
        job.exit_message = read_job_exit_message(Path(job.job_dir))
        last_end = report.transitions[-1].end_time if report.transitions else None
        job.end_time = from_epoch(last_end) or self._clock()

    def finish(self, job: ProcessingJob, status: JobStatus, reason: str | None, message: str) -> None:
        job.status = status
        job.failure_reason = reason
        job.start_time = job.start_time or job.creation_time
        job.end_time = self._clock()

    # --- the job process's description ---

    def _run_for(self, job: ProcessingJob) -> ProcessingRun:
        spec = job.spec
        app = spec.app
        return ProcessingRun(
            name=spec.name,
            arn=job.arn,
            job_dir=job.job_dir,
            objects_url=self._settings.resolved_objects_url,
            logs_root=str(self._settings.logs_dir),
            log_group=LOG_GROUP,
            created_epoch=int(job.creation_time.timestamp()),
            role_arn=spec.role_arn,
            image_uri=app.image_uri,
            framework=job.framework,
            entrypoint=list(app.container_entrypoint or []),
            arguments=list(app.container_arguments or []),
            instance_count=spec.cluster.instance_count,
            instance_type=spec.cluster.instance_type or _DEFAULT_INSTANCE_TYPE,
            volume_size_gb=spec.cluster.volume_size_gb,
            max_runtime_seconds=spec.effective_max_runtime,
            inputs=[_input_run(item) for item in spec.inputs],
            outputs=[_output_run(item) for item in spec.outputs],
            environment=dict(spec.environment),
            output_kms_key_id=spec.output_kms_key_id,
            output_kms_key_arn=output_key_arn(
                self._kms, spec.output_kms_key_id, "ProcessingOutputConfig.KmsKeyId"
            ),
            keyring=None if self._kms is None else self._kms.keyring_spec(),
            network_config=spec.extras.get("NetworkConfig"),
            stop_grace_seconds=self._settings.stop_grace_seconds,
        )


def _input_run(item: ProcessingInputSpec) -> InputRun:
    source = item.s3
    if source is None:
        # check_spec refuses inputs without an S3Input before a job is stored.
        raise ValueError(f"ProcessingInput '{item.name}' has no S3Input")
    local = source.local_path
    return InputRun(
        name=item.name,
        s3_uri=source.s3_uri,
        s3_data_type=source.s3_data_type,
        local_path=None if local is None else container_path(local, "LocalPath"),
        distribution=source.distribution or "FullyReplicated",
        compression=source.compression or "None",
        input_mode=source.input_mode or "File",
        app_managed=bool(item.app_managed),
    )


def _output_run(item: ProcessingOutputSpec) -> OutputRun:
    target = item.s3
    if target is None:
        raise ValueError(f"ProcessingOutput '{item.name}' has no S3Output")
    local = target.local_path
    return OutputRun(
        name=item.name,
        s3_uri=target.s3_uri,
        local_path=None if local is None else container_path(local, "LocalPath"),
        upload_mode=target.upload_mode,
        app_managed=bool(item.app_managed),
    )
