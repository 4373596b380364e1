"""A transform job's instances: one model server each, with its output copied into the job's logs.

Log streams follow SageMaker's names in ``/aws/sagemaker/TransformJobs``: the model
server's output in ``<job>/<instance id>-<epoch>`` and the job's own progress lines in
``<job>/<instance id>-<epoch>/data-log``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from opensage.executor.log_pump import LogPump
from opensage.executor.model_servers import LOG_FILE, ModelServerProcess, start_model_server
from opensage.executor.transform.spec import TransformRun
from opensage.logstore.base import LogStore, LogWriter
from opensage.objects import open_object_store
from opensage.runtime.serving.spec import ContainerSpec, ServeSpec, write_spec
from opensage.runtime.serving.staging import Staging, process_environment, stage_scripts
from opensage.security.keyring import open_keyring


def instance_ids(run: TransformRun) -> list[str]:
    """EC2-style instance ids, stable for a job: ``i-`` and 17 hex digits."""
    return [
        "i-" + hashlib.sha256(f"{run.arn}/{index}".encode()).hexdigest()[:17]
        for index in range(run.instance_count)
    ]


@dataclass
class Instance:
    instance_id: str
    server: ModelServerProcess
    pump: LogPump
    data_log: LogWriter

    def say(self, message: str) -> None:
        self.data_log.write(message)

    def terminate(self) -> None:
        """Ask the model server to exit; ``close`` waits for it."""
        if self.server.alive():
            self.server.process.terminate()

    def close(self, grace: float) -> None:
        self.server.stop(grace)
        self.pump.close()
        self.data_log.close()


def start_instance(run: TransformRun, instance_id: str, model_dirs: list[Path], logs: LogStore) -> Instance:
    """Start the instance's model server (returns at once; ``server.wait_ready`` waits for it).

    Users' inference code is prepared first (its code archive, requirements.txt, /opt/ml);
    a problem there raises ``ValidationError`` or ``AlgorithmClientError``, failing the job.
    """
    run_dir = Path(run.job_dir) / instance_id
    containers = [
        ContainerSpec(
            container.algorithm,
            str(folder),
            container.environment,
            container.hostname,
            framework=container.framework,
        )
        for container, folder in zip(run.containers, model_dirs, strict=True)
    ]
    stream = f"{run.name}/{instance_id}-{run.created_epoch}"
    data_log = logs.open_writer(run.log_group, f"{stream}/data-log")
    try:
        spec = _staged(run, ServeSpec(f"{run.name}/{instance_id}", containers), run_dir, data_log)
    except Exception:
        data_log.close()
        raise
    write_spec(run_dir, spec)
    server = start_model_server(run_dir, process_environment(spec, run_dir))
    pump = LogPump(run_dir / LOG_FILE, logs.open_writer(run.log_group, stream))
    return Instance(instance_id, server, pump, data_log)


def _staged(run: TransformRun, spec: ServeSpec, run_dir: Path, data_log: LogWriter) -> ServeSpec:
    if not any(container.framework for container in spec.containers):
        return spec
    environments = Path(run.environments_cache) if run.environments_cache else None
    staging = Staging(
        open_object_store(run.objects_url, open_keyring(run.keyring)),
        Path(run.model_cache_dir),
        environments,
        data_log.write,
    )
    return stage_scripts(spec, run_dir, staging)
