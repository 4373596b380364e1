"""Transform jobs: create, describe, list and stop them; their records follow their job processes.

What a transform job adds to every job kind (``services.jobs``): the model it serves, and
the description of its run for ``opensage.executor.transform_runner``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from opensage.clock import utcnow
from opensage.executor.base import Executor
from opensage.executor.status import RunStatus
from opensage.executor.transform.spec import ServedContainer, TransformRun, write_run
from opensage.naming import sagemaker_arn
from opensage.runtime.transform.records import MIB
from opensage.services.documents import Documents
from opensage.services.hosting.model_service import ModelService
from opensage.services.hosting.models import ContainerDefinition
from opensage.services.jobs import JobService, JobStatus, from_epoch, job_stamp
from opensage.services.kms.service import KmsService, output_key_arn
from opensage.services.transform.models import TransformJob, TransformJobSpec
from opensage.services.transform.validation import check_spec
from opensage.settings import Settings
from opensage.store import ResourceRepository

logger = logging.getLogger(__name__)

KIND = "transform-job"
LOG_GROUP = "/aws/sagemaker/TransformJobs"
RUNNER_MODULE = "opensage.executor.transform_runner"


class TransformService(JobService[TransformJob]):
    kind_label = "transform job"
    runner_module = RUNNER_MODULE

    def __init__(
        self,
        settings: Settings,
        repository: ResourceRepository,
        executor: Executor,
        models: ModelService,
        clock: Callable[[], datetime] = utcnow,
        kms: KmsService | None = None,
    ) -> None:
        super().__init__(Documents(repository, KIND, TransformJob, job_stamp), executor, clock)
        self._settings = settings
        self._models = models
        self._kms = kms

    def arn(self, name: str) -> str:
        return sagemaker_arn(self._settings.region, self._settings.account_id, KIND, name)

    def create(self, spec: TransformJobSpec) -> TransformJob:
        model = self._models.describe(spec.model_name)
        check_spec(spec, model, self._settings.max_hosts_per_job)
        output_key_arn(self._kms, spec.output.kms_key_id, "TransformOutput.KmsKeyId")
        now = self._clock()
        job = TransformJob(
            spec=spec,
            arn=self.arn(spec.name),
            job_dir=str(self._settings.jobs_dir / "transform" / spec.name),
            status=JobStatus.IN_PROGRESS,
            creation_time=now,
            last_modified_time=now,
            model_arn=model.arn,
            containers=list(model.containers),
        )
        return self.create_and_launch(
            job,
            spec.tags,
            "Transform job names must be unique within an AWS account and region, and a transform "
            f"job with this name already exists ({job.arn})",
        )

    # --- hooks ---

    def write_run(self, job: TransformJob) -> None:
        write_run(self._run_for(job))

    def copy_report(self, job: TransformJob, report: RunStatus) -> None:
        if report.transitions:
            job.start_time = from_epoch(report.transitions[0].start_time)
        outcome = report.outcome
        if outcome is None:
            return
        job.status = JobStatus(outcome.status)
        job.failure_reason = outcome.failure_reason
        last_end = report.transitions[-1].end_time if report.transitions else None
        job.end_time = from_epoch(last_end) or self._clock()

    def finish(self, job: TransformJob, status: JobStatus, reason: str | None, message: str) -> None:
        now = self._clock()
        job.status = status
        job.failure_reason = reason
        job.start_time = job.start_time or job.creation_time
        job.end_time = now

    # --- the job process's description ---

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
            output_kms_key_arn=output_key_arn(self._kms, spec.output.kms_key_id, "TransformOutput.KmsKeyId"),
            keyring=None if self._kms is None else self._kms.keyring_spec(),
            invocation_timeout_seconds=client.invocations_timeout_seconds,
            invocation_max_retries=client.invocations_max_retries,
            server_start_timeout=self._settings.model_server_start_timeout,
            stop_grace_seconds=self._settings.stop_grace_seconds,
            environments_cache=str(self._settings.home / "environments"),
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
            framework=container.framework,
        )
