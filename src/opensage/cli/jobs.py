"""``opensage jobs``: list, describe, stop training jobs and read their logs, through the public API."""

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

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
TERMINAL = ("Completed", "Failed", "Stopped")


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


class JobLogReader:
    """Reads every stream of a job's log, remembering where each stream was left."""

    def __init__(self, logs: Any, job_name: str) -> None:
        self._logs = logs
        self._prefix = f"{job_name}/"
        self._tokens: dict[str, str] = {}

    def read_new(self) -> Iterator[tuple[str, int, str]]:
        """(stream, timestamp ms, message) for every event not read before."""
        for stream in self._streams():
            while True:
                request: dict[str, Any] = {
                    "logGroupName": LOG_GROUP,
                    "logStreamName": stream,
                    "startFromHead": True,
                }
                if stream in self._tokens:
                    request["nextToken"] = self._tokens[stream]
                page = self._logs.get_log_events(**request)
                for event in page["events"]:
                    yield stream, event["timestamp"], event["message"]
                token = page["nextForwardToken"]
                if token == self._tokens.get(stream) or not page["events"]:
                    self._tokens[stream] = token
                    break
                self._tokens[stream] = token

    def _streams(self) -> list[str]:
        try:
            found = self._logs.describe_log_streams(logGroupName=LOG_GROUP, logStreamNamePrefix=self._prefix)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return []
            raise
        return sorted(stream["logStreamName"] for stream in found["logStreams"])


def follow_job(
    sagemaker: Any,
    logs: Any,
    name: str,
    on_line: Callable[[str, str], None],
    follow: bool,
    poll_seconds: float = 0.5,
    on_status: Callable[[dict[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Send each log line to ``on_line(host, message)``; with ``follow``, until the job ends.

    Returns the job's last DescribeTrainingJob response.
    """
    reader = JobLogReader(logs, name)
    while True:
        description: dict[str, Any] = sagemaker.describe_training_job(TrainingJobName=name)
        if on_status is not None:
            on_status(description)
        for stream, _, message in reader.read_new():
            on_line(stream.split("/", 1)[1].rsplit("-", 1)[0], message)
        if not follow or description["TrainingJobStatus"] in TERMINAL:
            for stream, _, message in reader.read_new():
                on_line(stream.split("/", 1)[1].rsplit("-", 1)[0], message)
            return description
        time.sleep(poll_seconds)


def _default(value: Any) -> str:
    return value.isoformat() if isinstance(value, datetime) else str(value)


@click.group()
def jobs() -> None:
    """Training jobs."""


@jobs.command("list")
@click.option(
    "--status", help="Only jobs with this status (InProgress, Completed, Failed, Stopping, Stopped)."
)
@click.option("--max", "max_results", default=20, show_default=True)
@click.pass_context
def list_jobs(ctx: click.Context, status: str | None, max_results: int) -> None:
    """The newest training jobs."""
    context = get_context(ctx)
    request: dict[str, Any] = {"SortBy": "CreationTime", "SortOrder": "Descending", "MaxResults": max_results}
    if status:
        request["StatusEquals"] = status
    with api_errors(context):
        summaries = context.client("sagemaker").list_training_jobs(**request)["TrainingJobSummaries"]
    for job in summaries:
        created = job["CreationTime"].strftime("%Y-%m-%d %H:%M:%S")
        click.echo(
            f"{job['TrainingJobName']:<50} {job['TrainingJobStatus']:<11} "
            f"{job['SecondaryStatus']:<20} {created}"
        )


@jobs.command()
@click.argument("name")
@click.pass_context
def describe(ctx: click.Context, name: str) -> None:
    """DescribeTrainingJob, as JSON."""
    context = get_context(ctx)
    with api_errors(context):
        found = context.client("sagemaker").describe_training_job(TrainingJobName=name)
    found.pop("ResponseMetadata", None)
    click.echo(json.dumps(found, indent=2, default=_default))


@jobs.command()
@click.argument("name")
@click.pass_context
def stop(ctx: click.Context, name: str) -> None:
    """StopTrainingJob."""
    context = get_context(ctx)
    with api_errors(context):
        context.client("sagemaker").stop_training_job(TrainingJobName=name)
    click.echo(f"Stopping {name}")


@jobs.command()
@click.argument("name")
@click.option("--follow", "-f", is_flag=True, help="Keep printing until the job ends.")
@click.pass_context
def logs(ctx: click.Context, name: str, follow: bool) -> None:
    """Print a training job's log (every host's stream)."""
    context = get_context(ctx)
    hosts: set[str] = set()

    def show(host: str, message: str) -> None:
        hosts.add(host)
        click.echo(f"[{host}] {message}" if len(hosts) > 1 or host != "algo-1" else message)

    with api_errors(context):
        description = follow_job(context.client("sagemaker"), context.client("logs"), name, show, follow)
    if follow:
        ending = description["TrainingJobStatus"]
        reason = description.get("FailureReason")
        click.echo(f"--- {name}: {ending}" + (f": {reason}" if reason else ""), err=True)
