"""SageMaker endpoints: desired state in the store, made real by the fleet in the background.

CreateEndpoint answers at once with the endpoint Creating; a worker deploys it and marks
it InService or Failed. UpdateEndpoint is blue/green: the new configuration is started
beside the old, traffic switches in one step once it answers, and the old set drains.
A failed update leaves the old configuration serving (InService, with a FailureReason).
After a restart, ``recover`` brings back every endpoint that was serving.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from opensage.errors import AlreadyExistsError, ValidationError
from opensage.naming import sagemaker_arn
from opensage.services.documents import Documents, Stamp
from opensage.services.hosting.config_service import EndpointConfigService
from opensage.services.hosting.fleet import DeployError, Fleet, LiveEndpoint, LiveVariant
from opensage.services.hosting.model_service import ModelService
from opensage.services.hosting.models import (
    DeployedImage,
    Endpoint,
    EndpointConfig,
    EndpointStatus,
    Model,
    VariantState,
)
from opensage.settings import Settings
from opensage.store import ListQuery, ResourceRepository

logger = logging.getLogger(__name__)

KIND = "endpoint"


def _stamp(endpoint: Endpoint) -> Stamp:
    return Stamp(
        endpoint.name,
        endpoint.arn,
        endpoint.status.value,
        endpoint.creation_time,
        endpoint.last_modified_time,
    )


class EndpointService:
    def __init__(
        self,
        settings: Settings,
        repository: ResourceRepository,
        models: ModelService,
        configs: EndpointConfigService,
        fleet: Fleet,
        clock: Callable[[], datetime],
    ) -> None:
        self._settings = settings
        self._models = models
        self._configs = configs
        self._fleet = fleet
        self._clock = clock
        self.documents = Documents(repository, KIND, Endpoint, _stamp)
        # One lock per endpoint: a second change to an endpoint waits for the first to finish.
        self._busy: dict[str, threading.Lock] = {}
        self._busy_lock = threading.Lock()
        self._closed = threading.Event()

    def arn(self, name: str) -> str:
        return sagemaker_arn(self._settings.region, self._settings.account_id, "endpoint", name)

    # --- the API ---

    def create(self, name: str, config_name: str, tags: dict[str, str]) -> Endpoint:
        config = self._configs.describe(config_name)
        now = self._clock()
        endpoint = Endpoint(
            name=name,
            arn=self.arn(name),
            config_name=config_name,
            status=EndpointStatus.CREATING,
            creation_time=now,
            last_modified_time=now,
            variants=self._desired_variants(config),
        )
        try:
            self.documents.create(endpoint, tags)
        except AlreadyExistsError as exc:
            raise AlreadyExistsError(f'Cannot create already existing endpoint "{endpoint.arn}".') from exc
        self._submit(name, self._deploy, name, config_name, False)
        return endpoint

    def describe(self, name: str) -> Endpoint:
        found = self.documents.get(name)
        if found is None:
            raise ValidationError(f'Could not find endpoint "{self.arn(name)}".')
        return found

    def list_endpoints(self, query: ListQuery) -> tuple[list[Endpoint], str | None]:
        return self.documents.page(query)

    def update(self, name: str, config_name: str) -> Endpoint:
        config = self._configs.describe(config_name)

        def start_update(endpoint: Endpoint) -> None:
            if endpoint.status != EndpointStatus.IN_SERVICE:
                raise ValidationError(
                    f'Cannot update in-progress endpoint "{endpoint.arn}": it is {endpoint.status.value}'
                )
            endpoint.status = EndpointStatus.UPDATING
            endpoint.pending_config_name = config.name
            endpoint.failure_reason = None
            endpoint.last_modified_time = self._clock()

        updated = self._change(name, start_update)
        self._submit(name, self._deploy, name, config_name, True)
        return updated

    def update_weights_and_capacities(
        self, name: str, desired: dict[str, tuple[float | None, int | None]]
    ) -> Endpoint:
        def start(endpoint: Endpoint) -> None:
            if endpoint.status != EndpointStatus.IN_SERVICE:
                raise ValidationError(
                    f'Cannot update in-progress endpoint "{endpoint.arn}": it is {endpoint.status.value}'
                )
            known = {variant.name for variant in endpoint.variants}
            unknown = sorted(set(desired) - known)
            if unknown:
                raise ValidationError(f"The endpoint has no variant named {', '.join(unknown)}")
            for variant in endpoint.variants:
                weight, count = desired.get(variant.name, (None, None))
                if weight is not None:
                    variant.desired_weight = weight
                if count is not None:
                    if variant.serverless is not None:
                        raise ValidationError(
                            f"Variant {variant.name} is serverless: it has no instance count"
                        )
                    variant.desired_instance_count = count
            endpoint.status = EndpointStatus.UPDATING
            endpoint.last_modified_time = self._clock()

        updated = self._change(name, start)
        self._submit(name, self._rescale, name)
        return updated

    def delete(self, name: str) -> None:
        def mark(endpoint: Endpoint) -> None:
            endpoint.status = EndpointStatus.DELETING
            endpoint.last_modified_time = self._clock()

        self._change(name, mark)
        self._submit(name, self._delete, name)

    # --- lifecycle ---

    def recover(self) -> None:
        """After a restart: serve again every endpoint that was serving or on its way to it."""
        active = [
            EndpointStatus.IN_SERVICE,
            EndpointStatus.CREATING,
            EndpointStatus.UPDATING,
            EndpointStatus.SYSTEM_UPDATING,
        ]
        for endpoint in self.documents.with_status([status.value for status in active]):
            if self._fleet.get(endpoint.name) is None:
                logger.info("bringing endpoint %s back (%s)", endpoint.name, endpoint.status.value)
                self._submit(endpoint.name, self._restore, endpoint.name)
        for endpoint in self.documents.with_status([EndpointStatus.DELETING.value]):
            self._submit(endpoint.name, self._delete, endpoint.name)

    def supervise(self) -> None:
        self._fleet.supervise()

    def shutdown(self) -> None:
        self._closed.set()
        self._fleet.stop_all()

    # --- workers ---

    def _submit(self, name: str, task: Callable[..., None], *args: object) -> None:
        """Run ``task`` in the background. A daemon thread per change: changes are rare, and a
        deployment still waiting on a model server must never keep the process from exiting."""
        with self._busy_lock:
            lock = self._busy.setdefault(name, threading.Lock())

        def run() -> None:
            with lock:
                if self._closed.is_set():
                    return
                try:
                    task(*args)
                except Exception:
                    logger.exception("endpoint %s: %s failed", name, getattr(task, "__name__", "task"))

        threading.Thread(target=run, name=f"endpoint-{name}", daemon=True).start()

    def _deploy(self, name: str, config_name: str, is_update: bool) -> None:
        try:
            config = self._configs.describe(config_name)
            live = self._fleet.deploy(name, config, self._models_of(config))
        except (DeployError, ValidationError) as error:
            reason = str(error)
            logger.warning("endpoint %s: deployment of %s failed: %s", name, config_name, reason)
            self._change(name, lambda endpoint: self._deployment_failed(endpoint, reason, is_update))
            return
        if self._status(name) in (None, EndpointStatus.DELETING):
            self._fleet.retire(live, drain_seconds=0)
            return
        previous = self._fleet.activate(live)
        self._change(name, lambda endpoint: self._in_service(endpoint, config, live))
        self._fleet.retire(previous)

    def _restore(self, name: str) -> None:
        endpoint = self.documents.get(name)
        if endpoint is None:
            return
        if endpoint.status == EndpointStatus.CREATING:
            self._deploy(name, endpoint.config_name, False)
            return
        self._deploy(name, endpoint.config_name, True)
        if endpoint.pending_config_name:
            self._change(name, lambda current: setattr(current, "status", EndpointStatus.UPDATING))
            self._deploy(name, endpoint.pending_config_name, True)

    def _rescale(self, name: str) -> None:
        endpoint = self.describe(name)
        live = self._fleet.get(name)
        problems: list[str] = []
        if live is not None:
            for state in endpoint.variants:
                variant = live.variants.get(state.name)
                if variant is None:
                    continue
                variant.weight = state.desired_weight
                if variant.serverless is None:
                    problems += self._scale_variant(live, state, variant)
        reason = "; ".join(problems) or None

        def settle(current: Endpoint) -> None:
            for state in current.variants:
                state.current_weight = state.desired_weight
                if live is not None and state.name in live.variants and state.serverless is None:
                    state.current_instance_count = len(live.variants[state.name].instances)
            current.status = EndpointStatus.IN_SERVICE
            current.failure_reason = reason
            current.last_modified_time = self._clock()

        self._change(name, settle)

    def _scale_variant(self, live: LiveEndpoint, state: VariantState, variant: LiveVariant) -> list[str]:
        variant.desired_count = state.desired_instance_count
        try:
            while len(variant.instances) < state.desired_instance_count:
                variant.add(self._fleet.start_instance(variant))
        except DeployError as error:
            return [str(error)]
        while len(variant.instances) > state.desired_instance_count:
            with variant._lock:
                extra, variant.instances = variant.instances[-1], variant.instances[:-1]
            extra.stop()
        return []

    def _delete(self, name: str) -> None:
        self._fleet.retire(self._fleet.remove(name), drain_seconds=5.0)
        self.documents.delete(name)

    # --- state changes ---

    def _in_service(self, endpoint: Endpoint, config: EndpointConfig, live: LiveEndpoint) -> None:
        now = self._clock()
        endpoint.status = EndpointStatus.IN_SERVICE
        endpoint.config_name = config.name
        endpoint.pending_config_name = None
        endpoint.failure_reason = None
        endpoint.variants = self._desired_variants(config, now)
        for state in endpoint.variants:
            running = live.variants[state.name]
            state.current_weight = state.desired_weight
            state.current_instance_count = len(running.instances)
        endpoint.last_modified_time = now

    def _deployment_failed(self, endpoint: Endpoint, reason: str, is_update: bool) -> None:
        endpoint.failure_reason = reason
        endpoint.pending_config_name = None
        endpoint.last_modified_time = self._clock()
        # A failed update leaves the previous configuration serving, as SageMaker rolls back.
        endpoint.status = (
            EndpointStatus.IN_SERVICE
            if is_update and self._fleet.get(endpoint.name)
            else EndpointStatus.FAILED
        )

    def _desired_variants(self, config: EndpointConfig, now: datetime | None = None) -> list[VariantState]:
        states = []
        for variant in config.variants:
            model = self._models.documents.get(variant.model_name)
            images = (
                []
                if model is None or now is None
                else [DeployedImage(c.image or "", c.image or "", now) for c in model.containers]
            )
            states.append(
                VariantState(
                    name=variant.name,
                    current_weight=0.0,
                    desired_weight=variant.initial_weight,
                    current_instance_count=0,
                    desired_instance_count=variant.initial_instance_count or 0,
                    images=images,
                    serverless=variant.serverless,
                )
            )
        return states

    def _models_of(self, config: EndpointConfig) -> dict[str, Model]:
        return {variant.model_name: self._models.describe(variant.model_name) for variant in config.variants}

    def _status(self, name: str) -> EndpointStatus | None:
        found = self.documents.get(name)
        return None if found is None else found.status

    def _change(self, name: str, change: Callable[[Endpoint], None]) -> Endpoint:
        if self.documents.get(name) is None:
            raise ValidationError(f'Could not find endpoint "{self.arn(name)}".')
        return self.documents.update(name, change)
