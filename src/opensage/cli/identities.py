"""``opensage users|roles|policies``: who may do what, managed on the home without a server.

The commands open the home's metadata store directly; a running server applies a change
within about a second (it caches each user's policies that long).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import click

from opensage.cli.context import CliContext, get_context, home_repository
from opensage.security.identities import Identities, policy_text


@contextlib.contextmanager
def home_identities(context: CliContext) -> Iterator[Identities]:
    """The users, roles and policies of the context's home."""
    with home_repository(context) as (settings, repository):
        yield Identities(repository, settings.account_id)


def _identities(ctx: click.Context) -> contextlib.AbstractContextManager[Identities]:
    return home_identities(get_context(ctx))


# --- users ------------------------------------------------------------------------------------


@click.group()
def users() -> None:
    """Manage users: access keys belong to them, policies say what they may do."""


@users.command("create")
@click.argument("name")
@click.option("--policy", "policies", multiple=True, help="A policy to attach (repeatable).")
@click.option("--role", "roles", multiple=True, help="A role to give (repeatable).")
@click.pass_context
def create_user(ctx: click.Context, name: str, policies: tuple[str, ...], roles: tuple[str, ...]) -> None:
    """Create a user; give it keys with `opensage keys create --user NAME`."""
    with _identities(ctx) as identities:
        for role in roles:
            identities.role(role)
        user = identities.create_user(name, list(policies))
        for role in roles:
            user = identities.give_role(name, role)
    click.echo(user.arn)


@users.command("list")
@click.pass_context
def list_users(ctx: click.Context) -> None:
    """Users with their policies and roles."""
    with _identities(ctx) as identities:
        found = identities.list_users()
    for user in found:
        roles = f"  roles: {', '.join(user.roles)}" if user.roles else ""
        click.echo(f"{user.name:<24} policies: {', '.join(user.policies) or '-'}{roles}")


@users.command("delete")
@click.argument("name")
@click.pass_context
def delete_user(ctx: click.Context, name: str) -> None:
    """Delete a user (its keys stop being allowed anything)."""
    with _identities(ctx) as identities:
        identities.delete_user(name)
    click.echo(f"Deleted user {name}")


@users.command("attach")
@click.argument("name")
@click.argument("policy")
@click.pass_context
def attach_user(ctx: click.Context, name: str, policy: str) -> None:
    """Attach POLICY to user NAME."""
    with _identities(ctx) as identities:
        identities.attach_user_policy(name, policy)
    click.echo(f"Attached {policy} to user {name}")


@users.command("detach")
@click.argument("name")
@click.argument("policy")
@click.pass_context
def detach_user(ctx: click.Context, name: str, policy: str) -> None:
    """Detach POLICY from user NAME."""
    with _identities(ctx) as identities:
        identities.detach_user_policy(name, policy)
    click.echo(f"Detached {policy} from user {name}")


@users.command("give-role")
@click.argument("name")
@click.argument("role")
@click.pass_context
def give_role(ctx: click.Context, name: str, role: str) -> None:
    """Give user NAME the policies of ROLE."""
    with _identities(ctx) as identities:
        identities.give_role(name, role)
    click.echo(f"Gave role {role} to user {name}")


@users.command("take-role")
@click.argument("name")
@click.argument("role")
@click.pass_context
def take_role(ctx: click.Context, name: str, role: str) -> None:
    """Take ROLE back from user NAME."""
    with _identities(ctx) as identities:
        identities.take_role(name, role)
    click.echo(f"Took role {role} from user {name}")


# --- roles ------------------------------------------------------------------------------------


@click.group()
def roles() -> None:
    """Manage roles: named sets of policies that users are given."""


@roles.command("create")
@click.argument("name")
@click.option("--policy", "policies", multiple=True, help="A policy to attach (repeatable).")
@click.pass_context
def create_role(ctx: click.Context, name: str, policies: tuple[str, ...]) -> None:
    """Create a role."""
    with _identities(ctx) as identities:
        role = identities.create_role(name, list(policies))
    click.echo(role.arn)


@roles.command("list")
@click.pass_context
def list_roles(ctx: click.Context) -> None:
    """Roles with their policies."""
    with _identities(ctx) as identities:
        found = identities.list_roles()
    for role in found:
        click.echo(f"{role.name:<24} policies: {', '.join(role.policies) or '-'}")


@roles.command("delete")
@click.argument("name")
@click.pass_context
def delete_role(ctx: click.Context, name: str) -> None:
    """Delete a role no user has."""
    with _identities(ctx) as identities:
        identities.delete_role(name)
    click.echo(f"Deleted role {name}")


@roles.command("attach")
@click.argument("name")
@click.argument("policy")
@click.pass_context
def attach_role(ctx: click.Context, name: str, policy: str) -> None:
    """Attach POLICY to role NAME."""
    with _identities(ctx) as identities:
        identities.attach_role_policy(name, policy)
    click.echo(f"Attached {policy} to role {name}")


@roles.command("detach")
@click.argument("name")
@click.argument("policy")
@click.pass_context
def detach_role(ctx: click.Context, name: str, policy: str) -> None:
    """Detach POLICY from role NAME."""
    with _identities(ctx) as identities:
        identities.detach_role_policy(name, policy)
    click.echo(f"Detached {policy} from role {name}")


# --- policies ---------------------------------------------------------------------------------


@click.group()
def policies() -> None:
    """Manage IAM-style policies (the shipped admin, data-scientist and read-only, and your own)."""


@policies.command("create")
@click.argument("name")
@click.option(
    "--file",
    "path",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The policy document (JSON).",
)
@click.pass_context
def create_policy(ctx: click.Context, name: str, path: Path) -> None:
    """Create a policy from a JSON document; it is checked before it is stored."""
    with _identities(ctx) as identities:
        made = identities.create_policy(name, path.read_text())
    click.echo(made.arn)


@policies.command("list")
@click.pass_context
def list_policies(ctx: click.Context) -> None:
    """Every policy; shipped ones are marked."""
    with _identities(ctx) as identities:
        found = identities.list_policies()
    for policy in found:
        click.echo(f"{policy.name:<24} {'shipped' if policy.shipped else 'custom':<8} {policy.arn}")


@policies.command("show")
@click.argument("name")
@click.pass_context
def show_policy(ctx: click.Context, name: str) -> None:
    """Print a policy's document."""
    with _identities(ctx) as identities:
        policy = identities.policy(name)
    click.echo(policy_text(policy))


@policies.command("delete")
@click.argument("name")
@click.pass_context
def delete_policy(ctx: click.Context, name: str) -> None:
    """Delete a policy that is attached to no user or role."""
    with _identities(ctx) as identities:
        identities.delete_policy(name)
    click.echo(f"Deleted policy {name}")
