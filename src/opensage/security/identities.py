"""Users, roles and managed policies of one home, kept as documents in the generic resource table.

A user has policies attached directly and roles (named sets of policies) it is given; what it
may do is every statement of all of them. Policies are managed documents (kind ``iam-policy``)
or one of the examples shipped with the package (``admin``, ``data-scientist``, ``read-only``),
which cannot be replaced or deleted. A user without a document may do nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

from opensage.clock import utcnow
from opensage.errors import NotFoundError, ResourceInUseError, ValidationError
from opensage.security.policies import Policy, parse_policy
from opensage.services.documents import Documents, Stamp
from opensage.store import ListQuery, ResourceRepository

USER_KIND = "iam-user"
ROLE_KIND = "iam-role"
POLICY_KIND = "iam-policy"
SHIPPED_POLICIES = ("admin", "data-scientist", "read-only")
#: The first user of a home, created with its first access key, and the policy it is given.
ADMIN_USER = "admin"
ADMIN_POLICY = "admin"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-")


@dataclass
class UserDocument:
    name: str
    arn: str
    created: datetime
    policies: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)


@dataclass
class RoleDocument:
    name: str
    arn: str
    created: datetime
    policies: list[str] = field(default_factory=list)


@dataclass
class PolicyDocument:
    name: str
    arn: str
    created: datetime
    document: dict[str, Any]


@dataclass(frozen=True)
class PolicySummary:
    name: str
    arn: str
    shipped: bool


def _stamp(item: UserDocument | RoleDocument | PolicyDocument) -> Stamp:
    return Stamp(item.name, item.arn, "Active", item.created, utcnow())


@cache
def shipped_policy(name: str) -> Policy:
    """One of the example policies shipped as package data (read once per process)."""
    text = resources.files("opensage.security").joinpath("shipped_policies", f"{name}.json").read_text()
    return parse_policy(name, text)


def _check_name(what: str, name: str) -> None:
    if not 1 <= len(name) <= 64 or not set(name) <= _NAME_CHARS:
        raise ValidationError(
            f"{what} name {name!r} must be 1-64 letters, digits or +=,.@_- (as IAM names are)"
        )


class Identities:
    """The users, roles and managed policies of one home."""

    def __init__(
        self, repository: ResourceRepository, account_id: str, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self.users: Documents[UserDocument] = Documents(repository, USER_KIND, UserDocument, _stamp)
        self.roles: Documents[RoleDocument] = Documents(repository, ROLE_KIND, RoleDocument, _stamp)
        self.policies: Documents[PolicyDocument] = Documents(repository, POLICY_KIND, PolicyDocument, _stamp)
        self.account_id = account_id
        self._clock = clock

    def _arn(self, kind: str, name: str) -> str:
        return f"arn:aws:iam::{self.account_id}:{kind}/{name}"

    # --- policies ---------------------------------------------------------------------------

    def create_policy(self, name: str, source: str | dict[str, Any]) -> PolicyDocument:
        _check_name("Policy", name)
        if name in SHIPPED_POLICIES:
            raise ResourceInUseError(f"Policy {name} is shipped with opensage and cannot be replaced")
        policy = parse_policy(name, source)
        item = PolicyDocument(name, self._arn("policy", name), self._clock(), policy.document)
        return self.policies.create(item)

    def policy(self, name: str) -> Policy:
        """The compiled policy ``name``; NotFoundError when there is none."""
        if name in SHIPPED_POLICIES:
            return shipped_policy(name)
        found = self.policies.get(name)
        if found is None:
            raise NotFoundError(f"Policy {name} does not exist")
        return parse_policy(name, found.document)

    def list_policies(self) -> list[PolicySummary]:
        shipped = [PolicySummary(name, self._arn("policy", name), True) for name in SHIPPED_POLICIES]
        stored = [PolicySummary(p.name, p.arn, False) for p in _all(self.policies)]
        return shipped + stored

    def delete_policy(self, name: str) -> None:
        if name in SHIPPED_POLICIES:
            raise ResourceInUseError(f"Policy {name} is shipped with opensage and cannot be deleted")
        holders = [f"user {u.name}" for u in _all(self.users) if name in u.policies]
        holders += [f"role {r.name}" for r in _all(self.roles) if name in r.policies]
        if holders:
            raise ResourceInUseError(
                f"Policy {name} is attached to {', '.join(holders)}; detach it before deleting it"
            )
        if not self.policies.delete(name):
            raise NotFoundError(f"Policy {name} does not exist")

    # --- users and roles --------------------------------------------------------------------

    def create_user(self, name: str, policies: list[str] | None = None) -> UserDocument:
        _check_name("User", name)
        for policy in policies or []:
            self.policy(policy)
        item = UserDocument(name, self._arn("user", name), self._clock(), list(dict.fromkeys(policies or [])))
        return self.users.create(item)

    def ensure_user(self, name: str, policies: list[str]) -> UserDocument:
        """The user ``name``, created with ``policies`` if it does not exist yet (first start)."""
        return self.users.get(name) or self.create_user(name, policies)

    def user(self, name: str) -> UserDocument:
        found = self.users.get(name)
        if found is None:
            raise NotFoundError(f"User {name} does not exist")
        return found

    def list_users(self) -> list[UserDocument]:
        return list(_all(self.users))

    def delete_user(self, name: str) -> None:
        if not self.users.delete(name):
            raise NotFoundError(f"User {name} does not exist")

    def attach_user_policy(self, user: str, policy: str) -> UserDocument:
        self.policy(policy)
        return self.users.update(self.user(user).name, lambda u: _add(u.policies, policy))

    def detach_user_policy(self, user: str, policy: str) -> UserDocument:
        if policy not in self.user(user).policies:
            raise NotFoundError(f"Policy {policy} is not attached to user {user}")
        return self.users.update(user, lambda u: u.policies.remove(policy))

    def create_role(self, name: str, policies: list[str] | None = None) -> RoleDocument:
        _check_name("Role", name)
        for policy in policies or []:
            self.policy(policy)
        item = RoleDocument(name, self._arn("role", name), self._clock(), list(dict.fromkeys(policies or [])))
        return self.roles.create(item)

    def role(self, name: str) -> RoleDocument:
        found = self.roles.get(name)
        if found is None:
            raise NotFoundError(f"Role {name} does not exist")
        return found

    def list_roles(self) -> list[RoleDocument]:
        return list(_all(self.roles))

    def delete_role(self, name: str) -> None:
        holders = [u.name for u in _all(self.users) if name in u.roles]
        if holders:
            raise ResourceInUseError(
                f"Role {name} is given to user(s) {', '.join(holders)}; take it back first"
            )
        if not self.roles.delete(name):
            raise NotFoundError(f"Role {name} does not exist")

    def attach_role_policy(self, role: str, policy: str) -> RoleDocument:
        self.policy(policy)
        return self.roles.update(self.role(role).name, lambda r: _add(r.policies, policy))

    def detach_role_policy(self, role: str, policy: str) -> RoleDocument:
        if policy not in self.role(role).policies:
            raise NotFoundError(f"Policy {policy} is not attached to role {role}")
        return self.roles.update(role, lambda r: r.policies.remove(policy))

    def give_role(self, user: str, role: str) -> UserDocument:
        self.role(role)
        return self.users.update(self.user(user).name, lambda u: _add(u.roles, role))

    def take_role(self, user: str, role: str) -> UserDocument:
        if role not in self.user(user).roles:
            raise NotFoundError(f"User {user} does not have role {role}")
        return self.users.update(user, lambda u: u.roles.remove(role))

    # --- evaluation -------------------------------------------------------------------------

    def effective_policies(self, user: str) -> list[Policy]:
        """Every policy that applies to ``user``: its own and its roles'. None for an unknown user.

        A policy or role deleted from under an attachment is skipped: it grants nothing, and
        a Deny it held is gone with it, as in IAM.
        """
        found = self.users.get(user)
        if found is None:
            return []
        names = list(found.policies)
        for role_name in found.roles:
            role = self.roles.get(role_name)
            names.extend(role.policies if role else [])
        compiled: list[Policy] = []
        for name in dict.fromkeys(names):
            try:
                compiled.append(self.policy(name))
            except NotFoundError:
                continue
        return compiled


def _add(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)


def _all(documents: Documents[Any]) -> Iterator[Any]:
    token: str | None = None
    while True:
        items, token = documents.page(ListQuery(max_results=100, next_token=token))
        yield from items
        if token is None:
            return


def policy_text(policy: Policy) -> str:
    return json.dumps(policy.document, indent=2)
