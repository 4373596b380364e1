"""``opensage audit``: the audit trail of a home, read from its files (no server needed), newest first."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import click

from opensage.cli.context import get_context
from opensage.security.audit import AuditEvent, AuditQuery, AuditTrailReader

_RELATIVE = re.compile(r"^(\d+)\s*([smhdw])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_moment(text: str, now: datetime | None = None) -> datetime:
    """``30m``, ``1h``, ``2d`` (that long ago) or an ISO time (``2026-11-22T10:00``; UTC unless it says)."""
    relative = _RELATIVE.match(text.strip())
    if relative:
        amount, unit = int(relative.group(1)), relative.group(2)
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[unit]: amount})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(f"{text!r} is neither a duration like 30m, 1h, 2d nor an ISO time") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moment(ctx: click.Context, param: click.Parameter, value: str | None) -> datetime | None:
    return None if value is None else parse_moment(value)


@click.command()
@click.option(
    "--since", callback=_moment, help="Only calls since then: 30m, 1h, 2d, or 2026-11-22T10:00 (UTC)."
)
@click.option("--until", callback=_moment, help="Only calls until then (same forms as --since).")
@click.option("--principal", help="A user name, user ARN or access key id.")
@click.option("--operation", help="An operation name, e.g. CreateTrainingJob or PutObject.")
@click.option(
    "--service", help="sagemaker, sagemaker-runtime, s3, logs, kms, cloudtrail (or sagemaker.amazonaws.com)."
)
@click.option("--resource", help="A resource ARN or name.")
@click.option("--result", help="ok, error, or an error code (NoSuchKey) or HTTP status (403).")
@click.option("--limit", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line, as stored.")
@click.pass_context
def audit(
    ctx: click.Context,
    since: datetime | None,
    until: datetime | None,
    principal: str | None,
    operation: str | None,
    service: str | None,
    resource: str | None,
    result: str | None,
    limit: int,
    as_json: bool,
) -> None:
    """Who called what, from where, and how it ended: the audit trail, newest first."""
    settings = get_context(ctx).settings()
    query = AuditQuery(
        since=since,
        until=until,
        principal=principal,
        operation=operation,
        service=service,
        resource=resource,
        result=result,
    )
    reader = AuditTrailReader(settings.audit_dir)
    events: list[AuditEvent] = []
    for event in reader.events(query):
        events.append(event)
        if len(events) == limit:
            break
    if as_json:
        for event in events:
            click.echo(json.dumps(event.to_json(), separators=(",", ":")))
    else:
        _print_table(events)
    if reader.dropped_seen:
        click.echo(f"warning: the trail records {reader.dropped_seen} call(s) it could not keep", err=True)


def _print_table(events: list[AuditEvent]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(box=None, header_style="bold")
    for column in (
        "time (UTC)",
        "principal",
        "source",
        "service",
        "operation",
        "resources",
        "result",
        "request id",
    ):
        table.add_column(column, overflow="fold")
    for event in events:
        table.add_row(
            event.event_time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
            event.user or (f"({event.access_key_id}, unverified)" if event.access_key_id else "(anonymous)"),
            event.source_address or "",
            event.service,
            event.operation or "?",
            "\n".join(event.resources),
            event.result,
            event.request_id,
        )
    console = Console(highlight=False)
    if events:
        console.print(table)
    else:
        console.print("No calls match.")
