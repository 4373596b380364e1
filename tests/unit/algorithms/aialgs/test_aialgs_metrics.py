"""The family's metric lines are what its MetricDefinitions read, final and per-epoch apart."""

from __future__ import annotations

import io

from opensage.algorithms.aialgs.metrics import (
    Direction,
    MetricLog,
    QualityMetric,
    progress_metric_definitions,
    quality_metric_definitions,
)
from opensage.runtime.metrics import MetricScraper

LOSS = QualityMetric("validation", "objective_loss", Direction.LOSS)
SCORE = QualityMetric("test", "binary_f_beta", Direction.SCORE)


def printed(write: str) -> list[str]:
    out = io.StringIO()
    log = MetricLog("algo-1", out)
    if write == "all":
        log.quality(LOSS, 0.75, epoch=0)
        log.quality(LOSS, 0.5)
        log.quality(SCORE, 0.9)
        log.progress(50)
        log.throughput(1234.5)
    return out.getvalue().splitlines()


def test_lines_have_sagemakers_shape() -> None:
    assert printed("all") == [
        "#quality_metric: host=algo-1, epoch=0, validation objective_loss <loss>=0.75",
        "#quality_metric: host=algo-1, validation objective_loss <loss>=0.5",
        "#quality_metric: host=algo-1, test binary_f_beta <score>=0.9",
        "#progress_metric: host=algo-1, completed 50 %",
        "#throughput_metric: host=algo-1, train throughput=1234.5 records/second",
    ]


def test_definitions_read_final_values_and_epoch_values_apart() -> None:
    definitions = quality_metric_definitions([LOSS, SCORE], per_epoch=True) + progress_metric_definitions()
    scraper = MetricScraper((d.name, d.regex) for d in definitions)
    found = [(m.name, m.value) for line in printed("all") for m in scraper.scan(line)]
    assert found == [
        ("validation:objective_loss:epoch", 0.75),
        ("validation:objective_loss", 0.5),
        ("test:binary_f_beta", 0.9),
        ("train:progress", 50.0),
        ("train:throughput", 1234.5),
    ]


def test_the_sdk_documented_kmeans_regex_reads_the_line() -> None:
    import re

    out = io.StringIO()
    MetricLog("algo-2", out).quality(QualityMetric("test", "msd", Direction.LOSS), 1.25)
    match = re.search(r"#quality_metric: host=\S+, test msd <loss>=(\S+)", out.getvalue())
    assert match is not None and float(match.group(1)) == 1.25


def test_a_metric_spelled_its_own_way_in_the_log_is_read_under_its_tuning_name() -> None:
    objective = QualityMetric("validation", "objective_loss", Direction.LOSS, log_pattern=r"\S+_objective")
    f_beta = QualityMetric("test", "binary_f_beta", Direction.SCORE, log_pattern=r"binary_f_\S+")
    out = io.StringIO()
    log = MetricLog("algo-1", out)
    log.quality(objective, 0.25, spelled="binary_classification_cross_entropy_objective")
    log.quality(f_beta, 0.8, spelled="binary_f_1.000")
    assert out.getvalue().splitlines() == [
        "#quality_metric: host=algo-1, validation binary_classification_cross_entropy_objective <loss>=0.25",
        "#quality_metric: host=algo-1, test binary_f_1.000 <score>=0.8",
    ]
    scraper = MetricScraper((d.name, d.regex) for d in quality_metric_definitions([objective, f_beta]))
    found = [(m.name, m.value) for line in out.getvalue().splitlines() for m in scraper.scan(line)]
    assert found == [("validation:objective_loss", 0.25), ("test:binary_f_beta", 0.8)]
