"""Waiting for a job and reading its log, against a scripted SageMaker and CloudWatch Logs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from opensage.sdk import JobFailedError, TrainingRun, WaitTimeoutError

XGBOOST = "683313688378.dkr.ecr.us-east-1.amazonaws.com/sagemaker-xgboost:1.7-1"


def description(status: str, secondary: str = "Training", **extra: Any) -> dict[str, Any]:
    return {
        "TrainingJobStatus": status,
        "SecondaryStatus": secondary,
        "AlgorithmSpecification": {"TrainingImage": XGBOOST},
        "HyperParameters": {"num_round": "2"},
        **extra,
    }


class ScriptedSageMaker:
    """Answers DescribeTrainingJob with each description in turn, then the last one forever."""

    def __init__(self, *descriptions: dict[str, Any]) -> None:
        self._descriptions: Iterator[dict[str, Any]] = iter(descriptions)
        self._last: dict[str, Any] = {}
        self.calls = 0
        self.stopped: list[str] = []

    def describe_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        self.calls += 1
        self._last = next(self._descriptions, self._last)
        return {**self._last, "TrainingJobName": TrainingJobName, "ResponseMetadata": {}}

    def stop_training_job(self, TrainingJobName: str) -> dict[str, Any]:
        self.stopped.append(TrainingJobName)
        return {}


class ScriptedLogs:
    """Two streams; get_log_events pages with forward tokens and answers the same token once a stream is read."""

    def __init__(self, streams: dict[str, list[str]]) -> None:
        self.streams = streams

    def describe_log_streams(self, logGroupName: str, logStreamNamePrefix: str) -> dict[str, Any]:
        assert logGroupName == "/aws/sagemaker/TrainingJobs"
        names = [name for name in self.streams if name.startswith(logStreamNamePrefix)]
        return {"logStreams": [{"logStreamName": name} for name in reversed(names)]}

    def get_log_events(self, logStreamName: str, nextToken: str = "f/0", **_: Any) -> dict[str, Any]:
        start = int(nextToken.split("/")[1])
        page = self.streams[logStreamName][start : start + 2]
        events = [{"timestamp": start + i, "message": message} for i, message in enumerate(page)]
        return {"events": events, "nextForwardToken": f"f/{start + len(page)}"}


class StubSession:
    endpoint_url = "http://stub"
    region = "us-east-1"

    def __init__(self, sagemaker: ScriptedSageMaker, logs: ScriptedLogs | None = None) -> None:
        self.sagemaker = sagemaker
        self.logs = logs or ScriptedLogs({})


def run_of(sagemaker: ScriptedSageMaker, logs: ScriptedLogs | None = None) -> TrainingRun:
    return TrainingRun(StubSession(sagemaker, logs), "job")  # type: ignore[arg-type]


def test_wait_returns_the_run_once_completed_and_then_stops_asking() -> None:
    sagemaker = ScriptedSageMaker(
        description("InProgress", "Starting"),
        description(
            "Completed", "Completed", FinalMetricDataList=[{"MetricName": "train:auc", "Value": 0.9}]
        ),
    )
    run = run_of(sagemaker)
    assert run.wait(progress=False) is run
    calls = sagemaker.calls
    assert run.status == "Completed" and run.metrics == {"train:auc": 0.9}
    assert sagemaker.calls == calls
    assert repr(run) == "<TrainingRun job Completed>"


def test_a_failed_job_raises_with_its_failure_reason() -> None:
    sagemaker = ScriptedSageMaker(
        description("Failed", "Failed", FailureReason="ClientError: unknown hyperparameter 'x'")
    )
    with pytest.raises(JobFailedError) as failed:
        run_of(sagemaker).wait()
    assert failed.value.failure_reason == "ClientError: unknown hyperparameter 'x'"
    assert failed.value.name == "job" and failed.value.kind == "Training job"
    assert str(failed.value) == "Training job job failed: ClientError: unknown hyperparameter 'x'"


def test_a_stopped_job_is_not_an_error() -> None:
    sagemaker = ScriptedSageMaker(description("Stopping"), description("Stopped", "Stopped"))
    run = run_of(sagemaker)
    run.stop()
    assert sagemaker.stopped == ["job"]
    assert run.wait().status == "Stopped"


def test_waiting_past_the_timeout_raises_and_leaves_the_job_alone() -> None:
    sagemaker = ScriptedSageMaker(description("InProgress"))
    with pytest.raises(WaitTimeoutError, match="did not end within 0 s") as timed_out:
        run_of(sagemaker).wait(timeout=0)
    assert isinstance(timed_out.value, TimeoutError)
    assert sagemaker.stopped == []


def test_logs_read_every_stream_in_order_across_pages() -> None:
    logs = ScriptedLogs({"job/algo-1-1": ["a", "b", "c"], "job/algo-2-1": ["d"], "other/algo-1-1": ["x"]})
    run = run_of(ScriptedSageMaker(description("Completed")), logs)
    assert list(run.logs()) == ["a", "b", "c", "d"]
    assert list(run.logs(follow=True)) == ["a", "b", "c", "d"]


def test_the_progress_display_shows_rounds_the_last_metric_line_and_a_summary(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logs = ScriptedLogs({"job/algo-1-1": ["[0]\ttrain-auc:0.90000", "[1]\ttrain-auc:0.95000"]})
    sagemaker = ScriptedSageMaker(
        description(
            "Completed", "Completed", FinalMetricDataList=[{"MetricName": "train:auc", "Value": 0.95}]
        )
    )
    run_of(sagemaker, logs).wait(progress=True)
    shown = capsys.readouterr().err
    assert "round 2/2" in shown
    assert "[1]  train-auc:0.95000" in shown
    assert "Training job job: Completed  train:auc=0.95" in shown
