"""The fleet: the model-server processes behind every endpoint, and the routing table to them.

An endpoint's desired state lives in the store; this is its reality. ``deploy`` stages the
models and starts each variant's instances, and returns them only once every instance
answers /ping; ``activate`` swaps them into the routing table in one step (blue/green), and
``retire`` lets the previous set finish its requests before stopping it. ``supervise``
restarts crashed instances and scales idle serverless variants to zero.

Each instance's model-server output goes to ``/aws/sagemaker/Endpoints/<endpoint>``,
stream ``<variant>/<instance id>``, as SageMaker names them (the SageMaker SDK's deploy
reads that group to show the container's output).

Threads start and stop processes; the event loop picks instances. A variant's lock guards
the moment an instance is picked (and counted in flight) against it being retired.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from opensage.errors import AlgorithmClientError, OpenSageError
from opensage.executor.forwarding import ConnectionPool
from opensage.executor.log_pump import LogPump
from opensage.executor.model_servers import LOG_FILE, ModelServerProcess, start_model_server
from opensage.logstore.base import LogStore
from opensage.objects.base import ObjectStore
from opensage.runtime.serving.artifacts import ArtifactError, fetch_model
from opensage.runtime.serving.spec import ContainerSpec, MultiModelSpec, ServeSpec, write_spec
from opensage.runtime.serving.staging import Staging, process_environment, stage_scripts
from opensage.services.hosting.models import CaptureSpec, EndpointConfig, Model, ServerlessSpec, VariantSpec
from opensage.settings import Settings

logger = logging.getLogger(__name__)


class DeployError(Exception):
    """An endpoint's models could not be started; the message becomes its FailureReason."""


ENDPOINT_LOG_GROUP = "/aws/sagemaker/Endpoints/"


@dataclass
class Instance:
    process: ModelServerProcess
    pump: LogPump | None = None
    _pool: ConnectionPool | None = None

    @property
    def pool(self) -> ConnectionPool:
        # Created on first use, from the event loop that forwards requests.
        if self._pool is None:
            self._pool = ConnectionPool(port=self.process.port, path=self.process.socket_path)
        return self._pool

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.close()
        self.process.stop()
        if self.pump is not None:
            self.pump.close()


@dataclass
class LiveVariant:
    endpoint: str
    name: str
    weight: float
    run_dir: Path
    serverless: ServerlessSpec | None
    desired_count: int
    # The model servers' environment when they run users' code; None: they inherit the platform's.
    environment: dict[str, str] | None = None
    instances: list[Instance] = field(default_factory=list)
    in_flight: int = 0
    last_used: float = field(default_factory=time.monotonic)
    _turn: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _generation: int = 0

    def acquire(self) -> Instance | None:
        """The next live instance (round robin), counted in flight until ``release``."""
        with self._lock:
            alive = [instance for instance in self.instances if instance.process.alive()]
            if not alive:
                return None
            self._turn += 1
            self.in_flight += 1
            self.last_used = time.monotonic()
            return alive[self._turn % len(alive)]

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1
            self.last_used = time.monotonic()

    def add(self, instance: Instance) -> None:
        with self._lock:
            self.instances = [*self.instances, instance]

    def take_idle(self, idle_seconds: float) -> list[Instance]:
        """Serverless scale-to-zero: remove and return every instance if the variant has been idle."""
        with self._lock:
            if self.in_flight or not self.instances or time.monotonic() - self.last_used < idle_seconds:
                return []
            taken, self.instances = self.instances, []
            return taken

    def take_all(self) -> list[Instance]:
        with self._lock:
            taken, self.instances = self.instances, []
            return taken

    def next_run_dir(self) -> Path:
        with self._lock:
            self._generation += 1
            return self.run_dir / f"instance-{self._generation}"


@dataclass
class LiveEndpoint:
    name: str
    config_name: str
    variants: dict[str, LiveVariant]
    capture: CaptureSpec | None = None

    def instances(self) -> list[Instance]:
        return [instance for variant in self.variants.values() for instance in variant.instances]


class Fleet:
    def __init__(self, settings: Settings, objects: ObjectStore, logs: LogStore) -> None:
        self._settings = settings
        self._objects = objects
        self._logs = logs
        self._live: dict[str, LiveEndpoint] = {}
        self._lock = threading.Lock()
        self._cold_start_locks: dict[tuple[str, str], threading.Lock] = {}
        self._serving = settings.home / "serving"

    # --- the routing table ---

    def get(self, endpoint: str) -> LiveEndpoint | None:
        return self._live.get(endpoint)

    def activate(self, live: LiveEndpoint) -> LiveEndpoint | None:
        """Route the endpoint to ``live`` from now on; returns what served it before."""
        with self._lock:
            previous = self._live.get(live.name)
            self._live[live.name] = live
        return previous

    def remove(self, endpoint: str) -> LiveEndpoint | None:
        with self._lock:
            return self._live.pop(endpoint, None)

    # --- deploying ---

    def deploy(self, endpoint: str, config: EndpointConfig, models: dict[str, Model]) -> LiveEndpoint:
        """Start every variant of ``config``; DeployError (with nothing left running) if any fails."""
        generation = f"{config.name}-{time.time_ns()}"
        live = LiveEndpoint(endpoint, config.name, {}, config.definition.capture)
        try:
            for variant in config.variants:
                model = models[variant.model_name]
                live.variants[variant.name] = self._deploy_variant(endpoint, generation, variant, model)
        except Exception:
            self.retire(live, drain_seconds=0)
            raise
        return live

    def _deploy_variant(
        self, endpoint: str, generation: str, variant: VariantSpec, model: Model
    ) -> LiveVariant:
        run_dir = self._serving / endpoint / generation / variant.name
        spec = self._serve_spec(endpoint, variant, model, run_dir)
        write_spec(run_dir, spec)
        count = 0 if variant.serverless else (variant.initial_instance_count or 1)
        live = LiveVariant(
            endpoint,
            variant.name,
            variant.initial_weight,
            run_dir,
            variant.serverless,
            count,
            environment=process_environment(spec, run_dir),
        )
        for _ in range(count):
            live.add(self.start_instance(live))
        return live

    def _serve_spec(self, endpoint: str, variant: VariantSpec, model: Model, run_dir: Path) -> ServeSpec:
        name = f"{endpoint}/{variant.name}"
        first = model.containers[0]
        if first.multi_model and first.model_data_url:
            location = first.model_data_url.removeprefix("s3://")
            bucket, _, prefix = location.partition("/")
            multi = MultiModelSpec(
                objects_url=self._settings.resolved_objects_url,
                bucket=bucket,
                prefix=prefix,
                cache_dir=str(self._serving / "models"),
                max_models=self._settings.multi_model_max_loaded,
            )
            served = ContainerSpec(first.algorithm, None, first.environment, first.hostname)
            return ServeSpec(name, [served], multi)
        containers = []
        for definition in model.containers:
            try:
                folder = fetch_model(
                    self._objects,
                    definition.model_data_url or "",
                    self._serving / "models",
                    compressed=definition.model_data_compressed,
                )
            except ArtifactError as exc:
                raise DeployError(f"Model {model.name}: {exc.message}") from exc
            containers.append(
                ContainerSpec(
                    definition.algorithm,
                    str(folder),
                    definition.environment,
                    definition.hostname,
                    framework=definition.framework,
                )
            )
        try:
            return stage_scripts(ServeSpec(name, containers), run_dir, self._staging(endpoint))
        except (OpenSageError, AlgorithmClientError) as exc:
            raise DeployError(f"Model {model.name}: {exc}") from exc

    def _staging(self, endpoint: str) -> Staging:
        def say(message: str) -> None:
            logger.info("endpoint %s: %s", endpoint, message)

        return Staging(self._objects, self._serving / "models", self._settings.home / "environments", say)

    def start_instance(self, variant: LiveVariant) -> Instance:
        run_dir = variant.next_run_dir()
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(variant.run_dir / "serve.json", run_dir / "serve.json")
        process = start_model_server(run_dir, variant.environment, unix=True)
        # The pump starts with the process, so that a server that never gets ready is logged too.
        instance_id = "i-" + hashlib.sha256(run_dir.as_posix().encode()).hexdigest()[:17]
        writer = self._logs.open_writer(
            ENDPOINT_LOG_GROUP + variant.endpoint, f"{variant.name}/{instance_id}"
        )
        pump = LogPump(run_dir / LOG_FILE, writer)
        problem = process.wait_ready(self._settings.model_server_start_timeout)
        if problem is not None:
            process.stop(grace=1.0)
            pump.close()
            raise DeployError(f"Variant {variant.name}: {problem}")
        return Instance(process, pump)

    def cold_start(self, variant: LiveVariant) -> None:
        """Give a serverless variant an instance if it has none (one start however many callers wait)."""
        key = (variant.run_dir.as_posix(), variant.name)
        with self._lock:
            lock = self._cold_start_locks.setdefault(key, threading.Lock())
        with lock:
            if any(instance.process.alive() for instance in variant.instances):
                return
            variant.add(self.start_instance(variant))

    # --- retiring ---

    def retire(self, live: LiveEndpoint | None, drain_seconds: float = 60.0) -> None:
        """Let in-flight requests finish (up to ``drain_seconds``), then stop every instance."""
        if live is None:
            return
        deadline = time.monotonic() + drain_seconds
        while any(variant.in_flight for variant in live.variants.values()) and time.monotonic() < deadline:
            time.sleep(0.02)
        for variant in live.variants.values():
            for instance in variant.take_all():
                instance.stop()

    def stop_all(self) -> None:
        with self._lock:
            endpoints, self._live = list(self._live.values()), {}
        for live in endpoints:
            self.retire(live, drain_seconds=5.0)

    # --- keeping it running ---

    def supervise(self, on_failure: Callable[[str, str], None] | None = None) -> None:
        """Restart crashed instances; scale idle serverless variants to zero."""
        for live in list(self._live.values()):
            for variant in live.variants.values():
                if variant.serverless is not None:
                    for instance in variant.take_idle(self._settings.serverless_idle_seconds):
                        instance.stop()
                    continue
                self._replace_dead(live, variant, on_failure)

    def _replace_dead(
        self, live: LiveEndpoint, variant: LiveVariant, on_failure: Callable[[str, str], None] | None
    ) -> None:
        dead = [instance for instance in variant.instances if not instance.process.alive()]
        for instance in dead:
            reason = instance.process.failure() or "exited"
            logger.warning(
                "endpoint %s variant %s: a model server stopped (%s); restarting it",
                live.name,
                variant.name,
                reason,
            )
            with variant._lock:
                variant.instances = [i for i in variant.instances if i is not instance]
            try:
                variant.add(self.start_instance(variant))
            except DeployError as error:
                logger.error("endpoint %s: could not restart a model server: %s", live.name, error)
                if on_failure is not None:
                    on_failure(live.name, str(error))
