"""Scrape metrics from log lines with MetricDefinitions regexes, as SageMaker does.

SageMaker matches regexes against CloudWatch's rendering of the log, where a tab shows up as
the characters ``#011``; the documented regexes (XGBoost's ``...#011validation-auc:...``)
depend on it. Each line is tried both ways, so regexes written for either form work.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

# A float at the start of a captured value: a capture like "1.2#011validation-rmse:3" still reads 1.2.
_LEADING_NUMBER = re.compile(r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[-+]?(?:nan|inf(?:inity)?)", re.I)


@dataclass(frozen=True)
class ScrapedMetric:
    name: str
    value: float


def parse_value(captured: str) -> float | None:
    match = _LEADING_NUMBER.match(captured.strip())
    return float(match.group(0)) if match else None


class MetricScraper:
    def __init__(self, definitions: Iterable[tuple[str, str]]) -> None:
        self._patterns: list[tuple[str, re.Pattern[str]]] = []
        for name, regex in definitions:
            try:
                self._patterns.append((name, re.compile(regex)))
            except re.error:
                # A definition that does not compile is reported at CreateTrainingJob; skip it here.
                continue

    def scan(self, line: str) -> list[ScrapedMetric]:
        if not self._patterns:
            return []
        forms = (line, line.replace("\t", "#011")) if "\t" in line else (line,)
        found: list[ScrapedMetric] = []
        for name, pattern in self._patterns:
            for form in forms:
                match = pattern.search(form)
                if match is None or not match.groups() or match.group(1) is None:
                    continue
                value = parse_value(match.group(1))
                if value is not None:
                    found.append(ScrapedMetric(name, value))
                    break
        return found
