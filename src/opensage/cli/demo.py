"""``opensage demo``: the whole loop on real data, through the same API boto3 users call.

It uses a running server or starts one in this process, uploads the Wisconsin breast-cancer
data set (569 real cases, shipped with scikit-learn) with the S3 API, trains SageMaker's
built-in XGBoost with CreateTrainingJob while showing its log live, downloads the model and
checks it on the held-out cases, then hosts it behind an endpoint and scores the held-out
cases again through InvokeEndpoint.
"""

from __future__ import annotations

import io
import re
import socket
import tarfile
import time
import urllib.request
from typing import Any

import click

from opensage.cli.context import CliContext, get_context
from opensage.cli.jobs import follow_job
from opensage.embedded import EmbeddedServer, free_port
from opensage.security.credentials import CREDENTIALS_FILE, read_credentials_file

BUCKET = "opensage-demo"
PREFIX = "breast-cancer"
ROLE = "arn:aws:iam::000000000000:role/opensage-demo"
ENDPOINT = "opensage-demo"


_ROUND = re.compile(r"^\[(\d+)\]\t")


def _round_of(message: str) -> int | None:
    """The boosting round of an XGBoost metric line ("[12]\ttrain-auc:..."), if it is one."""
    match = _ROUND.match(message)
    return int(match.group(1)) if match else None


def _serving(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=1) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _csv(rows: Any) -> bytes:
    buffer = io.StringIO()
    for row in rows:
        buffer.write(",".join(f"{value:.10g}" for value in row) + "\n")
    return buffer.getvalue().encode()


def _split_dataset(seed: int) -> tuple[Any, Any]:
    """Label-first CSV rows (the built-in XGBoost layout): 80% to train, 20% held out."""
    import numpy as np
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    rows = np.column_stack([data.target, data.data])
    order = np.random.default_rng(seed).permutation(len(rows))
    cut = int(len(rows) * 0.8)
    return rows[order[:cut]], rows[order[cut:]]


def _upload(s3: Any, train: Any, validation: Any) -> None:
    existing = {bucket["Name"] for bucket in s3.list_buckets()["Buckets"]}
    if BUCKET not in existing:
        s3.create_bucket(Bucket=BUCKET)
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/train/train.csv", Body=_csv(train))
    s3.put_object(Bucket=BUCKET, Key=f"{PREFIX}/validation/validation.csv", Body=_csv(validation))


def _training_request(name: str, region: str, rounds: int) -> dict[str, Any]:
    def channel(channel_name: str) -> dict[str, Any]:
        return {
            "ChannelName": channel_name,
            "ContentType": "text/csv",
            "DataSource": {
                "S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": f"s3://{BUCKET}/{PREFIX}/{channel_name}/"}
            },
        }

    return {
        "TrainingJobName": name,
        "RoleArn": ROLE,
        "AlgorithmSpecification": {
            "TrainingImage": f"683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1",
            "TrainingInputMode": "File",
        },
        "HyperParameters": {
            "objective": "binary:logistic",
            "num_round": str(rounds),
            "max_depth": "4",
            "eta": "0.2",
            "eval_metric": "logloss,auc",
            "seed": "7",
        },
        "InputDataConfig": [channel("train"), channel("validation")],
        "OutputDataConfig": {"S3OutputPath": f"s3://{BUCKET}/{PREFIX}/output"},
        "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10},
        "StoppingCondition": {"MaxRuntimeInSeconds": 600},
    }


def _check_model(s3: Any, artifacts: str, validation: Any) -> float:
    """Download model.tar.gz, load it with the xgboost library, and score the held-out cases (AUC)."""
    import xgboost
    from sklearn.metrics import roc_auc_score

    bucket, key = artifacts.removeprefix("s3://").split("/", 1)
    archive = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        member = tar.extractfile("xgboost-model")
        if member is None:
            raise click.ClickException(f"{artifacts} holds no xgboost-model file")
        booster = xgboost.Booster()
        booster.load_model(bytearray(member.read()))
    predictions = booster.predict(xgboost.DMatrix(validation[:, 1:]))
    return float(roc_auc_score(validation[:, 0], predictions))


def _run(context: CliContext, rounds: int) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(stderr=False)
    settings = context.settings()
    s3, sagemaker, logs = context.client("s3"), context.client("sagemaker"), context.client("logs")
    train, validation = _split_dataset(seed=0)
    console.print(
        f"[bold]1.[/] Uploading {len(train)} training and {len(validation)} validation cases to s3://{BUCKET}/{PREFIX}/"
    )
    _upload(s3, train, validation)

    name = f"demo-xgboost-{time.strftime('%Y%m%d-%H%M%S')}"
    console.print(f"[bold]2.[/] CreateTrainingJob {name} (built-in XGBoost, {rounds} rounds)")
    started = time.monotonic()
    sagemaker.create_training_job(**_training_request(name, settings.region, rounds))
    progress = {"status": "Starting", "round": ""}
    with console.status("Starting", spinner="dots") as status:

        def refresh() -> None:
            status.update(f"{progress['status']}  {progress['round']}")

        def show(host: str, message: str) -> None:
            text = message.replace("\t", "  ")
            round_number = _round_of(message)
            if round_number is None or round_number % 10 == 0 or round_number == rounds - 1:
                console.print(f"   {host} | {text}", highlight=False, markup=False)
            if round_number is not None:
                progress["round"] = f"round {round_number + 1}/{rounds}"
                refresh()

        def track(described: dict[str, Any]) -> None:
            progress["status"] = f"{described['TrainingJobStatus']} / {described['SecondaryStatus']}"
            refresh()

        result = follow_job(sagemaker, logs, name, show, follow=True, poll_seconds=0.2, on_status=track)
    elapsed = time.monotonic() - started
    if result["TrainingJobStatus"] != "Completed":
        raise click.ClickException(
            f"{name} ended {result['TrainingJobStatus']}: {result.get('FailureReason')}"
        )

    table = Table(title=f"{name}: Completed in {elapsed:.1f} s")
    table.add_column("metric")
    table.add_column("final value", justify="right")
    for metric in result.get("FinalMetricDataList", []):
        table.add_row(metric["MetricName"], f"{metric['Value']:.5f}")
    console.print(table)
    artifacts = result["ModelArtifacts"]["S3ModelArtifacts"]
    console.print(f"[bold]3.[/] Model: {artifacts}")
    auc = _check_model(s3, artifacts, validation)
    console.print(
        f"[bold]4.[/] Downloaded it, loaded it with xgboost: "
        f"AUC on the {len(validation)} held-out cases = {auc:.4f}"
    )
    _deploy_and_invoke(context, console, name, artifacts, settings.region, validation)
    console.print(f"Logs: opensage jobs logs {name}    Details: opensage jobs describe {name}")


def _deploy_and_invoke(
    context: CliContext, console: Any, name: str, artifacts: str, region: str, validation: Any
) -> None:
    """Host the model behind the endpoint ENDPOINT (updated in place on later runs) and score through it."""
    from sklearn.metrics import roc_auc_score

    sagemaker, runtime = context.client("sagemaker"), context.client("sagemaker-runtime")
    image = f"683313688378.dkr.ecr.{region}.amazonaws.com/sagemaker-xgboost:1.7-1"
    sagemaker.create_model(
        ModelName=name, ExecutionRoleArn=ROLE, PrimaryContainer={"Image": image, "ModelDataUrl": artifacts}
    )
    variant = {
        "VariantName": "AllTraffic",
        "ModelName": name,
        "InitialInstanceCount": 1,
        "InstanceType": "ml.m5.large",
    }
    sagemaker.create_endpoint_config(EndpointConfigName=name, ProductionVariants=[variant])
    existing = {e["EndpointName"] for e in sagemaker.list_endpoints(NameContains=ENDPOINT)["Endpoints"]}
    started = time.monotonic()
    if ENDPOINT in existing:
        console.print(f"[bold]5.[/] UpdateEndpoint {ENDPOINT} to the new model (blue/green)")
        sagemaker.update_endpoint(EndpointName=ENDPOINT, EndpointConfigName=name)
    else:
        console.print(f"[bold]5.[/] CreateEndpoint {ENDPOINT}")
        sagemaker.create_endpoint(EndpointName=ENDPOINT, EndpointConfigName=name)
    sagemaker.get_waiter("endpoint_in_service").wait(EndpointName=ENDPOINT, WaiterConfig={"Delay": 1})
    console.print(f"   InService after {time.monotonic() - started:.1f} s")

    body = "".join(",".join(f"{v:.10g}" for v in row) + "\n" for row in validation[:, 1:]).encode()
    answer = runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="text/csv", Body=body)
    scores = [float(line) for line in answer["Body"].read().decode().split()]
    auc = roc_auc_score(validation[:, 0], scores)
    latencies = []
    single = body.split(b"\n", 1)[0] + b"\n"
    for _ in range(50):
        tick = time.perf_counter()
        runtime.invoke_endpoint(EndpointName=ENDPOINT, ContentType="text/csv", Body=single)
        latencies.append((time.perf_counter() - tick) * 1000)
    latencies.sort()
    console.print(
        f"[bold]6.[/] InvokeEndpoint with the {len(validation)} held-out cases: AUC {auc:.4f}; "
        f"one-row latency through boto3 p50 {latencies[len(latencies) // 2]:.1f} ms"
    )
    console.print(
        f"   Try it: aws sagemaker-runtime invoke-endpoint --endpoint-name {ENDPOINT} "
        "--content-type text/csv --body fileb://row.csv out.txt"
    )


@click.command()
@click.option("--rounds", default=60, show_default=True, help="XGBoost boosting rounds.")
@click.pass_context
def demo(ctx: click.Context, rounds: int) -> None:
    """Train SageMaker's built-in XGBoost on real data, end to end, on this machine."""
    context = get_context(ctx)
    url = context.endpoint_url()
    if context.endpoint_override or _serving(url):
        click.echo(f"Using the opensage server at {url}")
        _run(context, rounds)
        return
    settings = context.settings()
    port = settings.port if not _port_taken(settings.port) else free_port()
    embedded = EmbeddedServer(context.settings(port=port))
    click.echo(f"Starting an opensage server at {embedded.endpoint_url} (home: {settings.home})")
    with embedded:
        context.endpoint_override = embedded.endpoint_url
        context.credentials_override = read_credentials_file(settings.home / CREDENTIALS_FILE)
        _run(context, rounds)


def _port_taken(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0
