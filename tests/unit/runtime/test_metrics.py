"""Metric scraping: SageMaker's #011 rendering of tabs, leading numbers, bad definitions."""

from __future__ import annotations

import pytest

from opensage.runtime.metrics import MetricScraper, ScrapedMetric, parse_value

XGB_VALIDATION_AUC = r".*\[[0-9]+\].*#011validation-auc:([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)"


def test_regexes_written_for_cloudwatch_match_lines_with_tabs() -> None:
    scraper = MetricScraper([("validation:auc", XGB_VALIDATION_AUC)])
    assert scraper.scan("[12]\ttrain-auc:0.99\tvalidation-auc:0.97125") == [
        ScrapedMetric("validation:auc", 0.97125)
    ]


def test_regexes_written_for_tabs_still_work() -> None:
    scraper = MetricScraper([("loss", r"loss\t([0-9.]+)")])
    assert scraper.scan("epoch 3\tloss\t0.25") == [ScrapedMetric("loss", 0.25)]


def test_a_greedy_capture_keeps_its_leading_number() -> None:
    scraper = MetricScraper([("train:rmse", r"train-rmse:(\S+)")])
    assert scraper.scan("[5]#011train-rmse:1.25#011validation-rmse:1.5") == [
        ScrapedMetric("train:rmse", 1.25)
    ]


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3.0), ("-2.5e-3", -0.0025), (".5x", 0.5), ("abc", None), ("", None)],
)
def test_parse_value(text: str, value: float | None) -> None:
    assert parse_value(text) == value


def test_lines_without_a_number_and_broken_definitions_yield_nothing() -> None:
    scraper = MetricScraper([("broken", "([unclosed"), ("no-group", r"loss=\d+"), ("ok", r"acc=(\S+)")])
    assert scraper.scan("loss=3 acc=n/a") == []
    assert scraper.scan("acc=0.5") == [ScrapedMetric("ok", 0.5)]
