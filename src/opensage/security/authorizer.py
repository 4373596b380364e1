"""The check every adapter makes before a handler runs: may this principal do these accesses?

A user's compiled policies are cached for about a second: InvokeEndpoint asks on every
request and must not read the database each time, and a change made by ``opensage users``
or ``opensage policies`` in another process still takes effect within that second.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from opensage.errors import AccessDeniedError, OpenSageError, S3AccessDenied
from opensage.security.actions import Access, Arns
from opensage.security.identities import ADMIN_POLICY, ADMIN_USER, Identities
from opensage.security.policies import Decision, Policy, evaluate
from opensage.security.principal import Principal, call_of, principal_of
from opensage.settings import Settings
from opensage.store import ResourceRepository

# How long a user's policies are trusted before they are read again.
CACHE_SECONDS = 1.0


@dataclass(frozen=True)
class Denial:
    """Why a call is refused, worded as IAM words it."""

    principal_arn: str
    access: Access
    explicit: bool

    @property
    def message(self) -> str:
        who = f"User: {self.principal_arn} is not authorized to perform: {self.access.action}"
        where = f" on resource: {self.access.resource}"
        if self.explicit:
            return f"{who}{where} with an explicit deny in an identity-based policy"
        return f"{who}{where} because no identity-based policy allows the {self.access.action} action"


class Authorizer:
    """Evaluates principals' policies; ``require_principal`` refuses requests nobody authenticated."""

    def __init__(
        self,
        identities: Identities,
        arns: Arns,
        require_principal: bool,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.identities = identities
        self.arns = arns
        self.require_principal = require_principal
        self._clock = clock
        self._cache: dict[str, tuple[float, list[Policy]]] = {}
        self._lock = threading.Lock()

    def policies_of(self, user: str) -> list[Policy]:
        now = self._clock()
        cached = self._cache.get(user)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            return cached[1]
        policies = self.identities.effective_policies(user)
        with self._lock:
            self._cache[user] = (now, policies)
        return policies

    def decide(self, principal: Principal | None, accesses: Sequence[Access]) -> Denial | None:
        """None when every access is allowed, else the first one refused."""
        if principal is None:
            if not self.require_principal:
                return None
            return Denial("anonymous", accesses[0], explicit=False) if accesses else None
        if principal.unrestricted:
            return None
        policies = self.policies_of(principal.user)
        for access in accesses:
            decision = evaluate(policies, access.action, access.resource)
            if decision is not Decision.ALLOW:
                return Denial(principal.arn, access, explicit=decision is Decision.EXPLICIT_DENY)
        return None

    def authorize(
        self, scope: Mapping[str, Any], operation: str, accesses: Sequence[Access], s3: bool = False
    ) -> None:
        """Record the call's operation and resources, then raise the protocol's AccessDenied if refused."""
        call = call_of(scope)
        if call is not None:
            call.operation = operation
            call.resources = list(dict.fromkeys(a.resource for a in accesses if a.resource != "*"))
        denial = self.decide(principal_of(scope), accesses)
        if denial is not None:
            raise denied(denial, s3)


def denied(denial: Denial, s3: bool = False) -> OpenSageError:
    return S3AccessDenied(denial.message) if s3 else AccessDeniedError(denial.message)


def open_authorizer(settings: Settings, repository: ResourceRepository) -> Authorizer:
    """The server's authorizer; gives the home's first user (``admin``) the shipped admin policy."""
    identities = Identities(repository, settings.account_id)
    identities.ensure_user(ADMIN_USER, [ADMIN_POLICY])
    # Authentication puts a principal on every request it lets through (the unrestricted one
    # under --no-auth); a request without one took a path it did not cover, and is refused.
    return Authorizer(identities, Arns(settings.region, settings.account_id), require_principal=True)
