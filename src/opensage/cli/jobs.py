"""``opensage jobs`` and ``opensage endpoints``: list, describe, stop, read logs, through the public API.

``jobs`` covers training jobs by default and processing or transform jobs with ``--kind``.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import click
from botocore.exceptions import ClientError, EndpointConnectionError

from opensage.cli.context import CliContext, get_context
from opensage.sdk._jobs import PROCESSING_JOBS, TRAINING_JOBS, TRANSFORM_JOBS, JobKind
from opensage.sdk._logs import LogReader

TERMINAL = ("Completed", "Failed", "Stopped")


KINDS = {"training": TRAINING_JOBS, "processing": PROCESSING_JOBS, "transform": TRANSFORM_JOBS}


@contextlib.contextmanager
def api_errors(context: CliContext) -> Iterator[None]:
    """Show API failures as one-line CLI errors: the AWS code and message, or who is not answering."""
    try:
        yield
    except EndpointConnectionError as error:
        message = f"no opensage server answers at {context.endpoint_url()}; start one with `opensage server`"
        raise click.ClickException(message) from error
    except ClientError as error:
        details = error.response.get("Error", {})
        raise click.ClickException(f"{details.get('Code')}: {details.get('Message')}") from error


def follow_job(
    sagemaker: Any,
    logs: Any,
    name: str,
    on_line: Callable[[str, str], None],
    follow: bool,
    poll_seconds: float = 0.5,
    on_status: Callable[[dict[str, Any]], None] | None = None,
    kind: JobKind = TRAINING_JOBS,
) -> dict[str, Any]:
    """Send each log line to ``on_line(host, message)``; with ``follow``, until the job ends.

    Returns the job's last Describe...Job response.
    """
    reader = LogReader(logs, kind.log_group, name)
    while True:
        description = kind.describe(sagemaker, name)
        if on_status is not None:
            on_status(description)
        for line in reader.read_new():
            on_line(host_of(line.stream), line.message)
        if not follow or description[kind.status_field] in TERMINAL:
            for line in reader.read_new():
                on_line(host_of(line.stream), line.message)
            return description
        time.sleep(poll_seconds)


def host_of(stream: str) -> str:
    """Who wrote a job log stream: ``<job>/algo-1-<epoch>`` is algo-1, ``<job>/<instance>-<epoch>/data-log``
    is ``<instance>/data-log``."""
    first, _, rest = stream.split("/", 1)[1].partition("/")
    host = first.rsplit("-", 1)[0] if first.rsplit("-", 1)[-1].isdigit() else first
    return f"{host}/{rest}" if rest else host


def _default(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


_KIND_OPTION = click.option(
    "--kind",
    type=click.Choice(sorted(KINDS)),
    default="training",
    show_default=True,
    help="Which jobs.",
)


@click.group()
def jobs() -> None:
    """Training, processing and transform jobs."""


@jobs.command("list")
@_KIND_OPTION
@click.option(
    "--status", help="Only jobs with this status (InProgress, Completed, Failed, Stopping, Stopped)."
)
@click.option("--max", "max_results", default=20, show_default=True)
@click.pass_context
def list_jobs(ctx: click.Context, kind: str, status: str | None, max_results: int) -> None:
    """The newest jobs of a kind."""
    context = get_context(ctx)
    job_kind = KINDS[kind]
    request: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": max_results}
    if status:
        request["StatusEquals"] = status
    with api_errors(context):
        listed = getattr(context.client("sagemaker"), job_kind.list_operation)(**request)
    for job in listed[job_kind.summaries_field]:
        created = job["CreationTime"].strftime("%Y-%m-%d %H:%M:%S")
        click.echo(
            f"{job[job_kind.name_field]:<50} {job[job_kind.status_field]:<11} "
            f"{job.get('SecondaryStatus', ''):<20} {created}"
        )


@jobs.command()
@_KIND_OPTION
@click.argument("name")
@click.pass_context
def describe(ctx: click.Context, kind: str, name: str) -> None:
    """Describe...Job, as JSON."""
    context = get_context(ctx)
    with api_errors(context):
        found = KINDS[kind].describe(context.client("sagemaker"), name)
    found.pop("ResponseMetadata", None)
    click.echo(json.dumps(found, indent=2, default=_default))


@jobs.command()
@_KIND_OPTION
@click.argument("name")
@click.pass_context
def stop(ctx: click.Context, kind: str, name: str) -> None:
    """Stop...Job."""
    context = get_context(ctx)
    job_kind = KINDS[kind]
    with api_errors(context):
        getattr(context.client("sagemaker"), job_kind.stop_operation)(**{job_kind.name_field: name})
    click.echo(f"Stopping {name}")


@jobs.command()
@_KIND_OPTION
@click.argument("name")
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the job ends.")
@click.pass_context
def logs(ctx: click.Context, kind: str, name: str, follow: bool) -> None:
    """Print a job's log (every host's stream)."""
    context = get_context(ctx)
    job_kind = KINDS[kind]
    hosts: set[str] = set()

    def show(host: str, message: str) -> None:
        hosts.add(host)
        click.echo(f"[{host}] {message}" if len(hosts) > 1 or host != "algo-1" else message)

    with api_errors(context):
        description = follow_job(
            context.client("sagemaker"), context.client("logs"), name, show, follow, kind=job_kind
        )
    if follow:
        ending = description[job_kind.status_field]
        reason = description.get("FailureReason")
        click.echo(f"--- {name}: {ending}" + (f": {reason}" if reason else ""), err=True)


@click.group()
def endpoints() -> None:
    """Endpoints."""


@endpoints.command("list")
@click.option("--max", "max_results", default=20, show_default=True)
@click.pass_context
def list_endpoints(ctx: click.Context, max_results: int) -> None:
    """The newest endpoints."""
    context = get_context(ctx)
    request = {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": max_results}
    with api_errors(context):
        found = context.client("sagemaker").list_endpoints(**request)["Endpoints"]
    for endpoint in found:
        created = endpoint["CreationTime"].strftime("%Y-%m-%d %H:%M:%S")
        click.echo(f"{endpoint['EndpointName']:<50} {endpoint['EndpointStatus']:<14} {created}")


@endpoints.command("describe")
@click.argument("name")
@click.pass_context
def describe_endpoint(ctx: click.Context, name: str) -> None:
    """DescribeEndpoint, as JSON."""
    context = get_context(ctx)
    with api_errors(context):
        found = context.client("sagemaker").describe_endpoint(EndpointName=name)
    found.pop("ResponseMetadata", None)
    click.echo(json.dumps(found, indent=2, default=_default))
