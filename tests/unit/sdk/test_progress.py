"""What the progress display picks from a log: metric lines and step counts; the status text."""

from __future__ import annotations

import re

import pytest

from opensage.sdk._progress import Silent, Steps, display_for, is_metric_line, status_text


@pytest.mark.parametrize(
    "line",
    ["[3]\ttrain-auc:0.99\tvalidation-auc:0.97", "accuracy=0.95", "epoch 3 loss: 1.2e-3", "val/f1 = .8"],
)
def test_metric_lines_are_recognised(line: str) -> None:
    assert is_metric_line(line)


@pytest.mark.parametrize(
    "line",
    [
        "2026-01-01 12:00:01 starting",
        "Invoking script: python train.py --epochs 3",
        "[opensage] algo-1: done",
        "",
    ],
)
def test_other_lines_are_not(line: str) -> None:
    assert not is_metric_line(line)


def test_steps_count_from_the_pattern_with_an_offset() -> None:
    steps = Steps(10, re.compile(r"^\[(\d+)\]\t"), label="round", offset=1)
    assert steps.step_of("[0]\ttrain-rmse:1") == 1
    assert steps.step_of("[9]\ttrain-rmse:1") == 10
    assert steps.step_of("no round here") is None


def test_status_text_adds_the_secondary_status_when_it_says_more() -> None:
    field = "TrainingJobStatus"
    assert status_text({field: "InProgress", "SecondaryStatus": "Training"}, field) == "InProgress / Training"
    assert status_text({field: "Completed", "SecondaryStatus": "Completed"}, field) == "Completed"
    assert status_text({"TransformJobStatus": "InProgress"}, "TransformJobStatus") == "InProgress"


def test_progress_false_shows_nothing_and_reads_no_logs() -> None:
    display = display_for(False, "job")
    assert isinstance(display, Silent) and not display.wants_logs
