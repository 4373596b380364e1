"""The composition root: builds stores, executor and services from settings, and runs reconcilers.

Nothing else wires components together; ``create_app`` and the CLI take a Platform.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from opensage.clock import utcnow
from opensage.errors import ConflictError
from opensage.executor import open_executor
from opensage.logstore import open_log_store
from opensage.objects import open_object_store
from opensage.security.audit import AuditTrailWriter
from opensage.services.hosting.async_invocation import AsyncInvocationService
from opensage.services.hosting.capture import CaptureWriter
from opensage.services.hosting.config_service import EndpointConfigService
from opensage.services.hosting.endpoint_service import EndpointService
from opensage.services.hosting.fleet import Fleet
from opensage.services.hosting.invocation import InvocationService
from opensage.services.hosting.model_service import ModelService
from opensage.services.hosting.models import AsyncSpec, EndpointStatus
from opensage.services.kms.service import KmsService
from opensage.services.logs import LogsService
from opensage.services.processing.service import ProcessingService
from opensage.services.tags import TagService
from opensage.services.training.service import TrainingService
from opensage.services.transform.service import TransformService
from opensage.settings import Settings
from opensage.store import claim, open_repository

logger = logging.getLogger(__name__)


HOME_LOCK = "server.lock"
# How often crashed model servers are replaced and idle serverless variants scaled to zero.
_SUPERVISION_SECONDS = 0.5


def _lock_home(home: Path) -> int:
    """Hold the home for this process: two servers reconciling the same jobs would fight over them."""
    fd = os.open(home / HOME_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise ConflictError(
            f"Another opensage server (pid {holder}) is using {home}; stop it or choose another --home"
        ) from exc
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    return fd


class Platform:
    def __init__(self, settings: Settings) -> None:
        settings.home.mkdir(parents=True, exist_ok=True)
        self.settings = settings
        self._home_lock = _lock_home(settings.home)
        self.repository = open_repository(settings.resolved_database_url)
        self._database_claim = claim(self.repository.engine)
        self.kms = KmsService(
            self.repository, settings.home / "secrets", settings.region, settings.account_id, utcnow
        )
        # Objects written with SSE-KMS or SSE-S3 get their data keys from the KMS keys.
        self.objects = open_object_store(settings.resolved_objects_url, self.kms.keyring())
        self.log_store = open_log_store(settings.logs_dir)
        self.audit = AuditTrailWriter(settings.audit_dir)
        self.executor = open_executor(settings.executor)
        self.training = TrainingService(settings, self.repository, self.executor, utcnow, self.kms)
        self.tags = TagService(self.repository)
        self.logs = LogsService(self.log_store, region=settings.region, account_id=settings.account_id)
        self.fleet = Fleet(settings, self.objects, self.log_store)
        self.capture = CaptureWriter(self.objects)
        self.models = ModelService(settings, self.repository, self.objects, utcnow)
        self.transform = TransformService(settings, self.repository, self.executor, self.models, kms=self.kms)
        self.processing = ProcessingService(settings, self.repository, self.executor, utcnow, self.kms)
        self.endpoint_configs = EndpointConfigService(settings, self.repository, self.models, utcnow)
        self.endpoints = EndpointService(
            settings, self.repository, self.models, self.endpoint_configs, self.fleet, utcnow
        )
        self.invocations = InvocationService(
            self.fleet, self.capture, self._endpoint_status, settings.account_id
        )
        self.async_invocations = AsyncInvocationService(self.invocations, self.objects, self._async_config)
        self._stopping = threading.Event()
        self._reconciler: threading.Thread | None = None

    def _endpoint_status(self, name: str) -> EndpointStatus | None:
        found = self.endpoints.documents.get(name)
        return None if found is None else found.status

    def _async_config(self, endpoint_name: str) -> AsyncSpec | None:
        endpoint = self.endpoints.documents.get(endpoint_name)
        if endpoint is None:
            return None
        config = self.endpoint_configs.documents.get(endpoint.config_name)
        return None if config is None else config.definition.async_inference

    def start(self) -> None:
        """Catch up with jobs that ran or ended while no server was running, then keep watching."""
        self.training.reconcile()
        self.transform.recover()
        self.processing.recover()
        self.endpoints.recover()
        self._stopping.clear()
        self._reconciler = threading.Thread(target=self._reconcile_forever, name="reconciler", daemon=True)
        self._reconciler.start()

    def stop(self, grace_seconds: float | None = None) -> None:
        """Stop running jobs (recorded as Stopped), then the reconciler; release the stores."""
        grace = self.settings.stop_grace_seconds if grace_seconds is None else grace_seconds
        self._stopping.set()
        if self._reconciler is not None:
            self._reconciler.join()
            self._reconciler = None
        # Every kind of job gets its stop signal at once, so the wait is one grace period, not one per kind.
        with ThreadPoolExecutor(max_workers=3) as stopping:
            waits = [
                stopping.submit(self.training.shutdown, grace + 5.0),
                stopping.submit(self.transform.shutdown, grace + 5.0),
                stopping.submit(self.processing.shutdown, grace + 5.0),
            ]
            for wait in waits:
                wait.result()
        self.endpoints.shutdown()
        self.capture.close()
        # Every call answered before shutdown is on disk before the server exits.
        self.audit.close()
        self.executor.close()
        self.objects.close()
        if self._database_claim is not None:
            self._database_claim.close()
        self.repository.engine.dispose()
        os.close(self._home_lock)

    def _reconcile_forever(self) -> None:
        next_supervision = 0.0
        while not self._stopping.wait(self.settings.job_poll_interval):
            try:
                self.training.reconcile()
                self.transform.reconcile()
                self.processing.reconcile()
                if time.monotonic() >= next_supervision:
                    self.endpoints.supervise()
                    next_supervision = time.monotonic() + _SUPERVISION_SECONDS
            except Exception:
                logger.exception("reconciliation failed; trying again")
