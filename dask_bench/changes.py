"""Change points in the history of releases: where a benchmark stepped, by how much, with what else.

The detector is the verdict's own rule (dask_bench.verdict: Mann-Whitney U, bootstrap interval of
the ratio of medians, minimum effect size) applied to each pair of consecutive releases that both
have samples. Its false-alarm rate is therefore the one `make calibrate` measures with A/A pairs
(calibration.md). A change is reported with its ratio and interval, the two releases, and the
other benchmarks that changed between the same two releases ("moved together").
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import verdict
from .results import Run, label


@dataclass(frozen=True)
class Change:
    benchmark: str
    before: str   # release labels
    after: str
    decision: verdict.Decision

    @property
    def direction(self) -> str:
        return "slower" if self.decision.ratio > 1 else "faster"


def median_interval(samples, confidence: float = verdict.CONFIDENCE) -> tuple[float, float]:
    """Bootstrap confidence interval of the median of one release's samples."""
    if not samples or len(samples) < verdict.MIN_SAMPLES:
        return math.nan, math.nan
    result = stats.bootstrap((np.asarray(samples, float),), np.median, n_resamples=verdict.RESAMPLES,
                             confidence_level=confidence, method="percentile", rng=np.random.default_rng(0))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def series(ordered: list[Run]) -> dict[str, list[tuple[int, object]]]:
    """benchmark label -> [(index of the release in `ordered`, Measurement)] for every release that has it."""
    found: dict[str, list] = {}
    for i, run in enumerate(ordered):
        for (name, params), m in run.measurements.items():
            if m.ok and m.samples:
                found.setdefault(label(name, params), []).append((i, m))
    return found


def detect(ordered: list[Run], labels: list[str], factor: float, counted=lambda name: True,
           higher_is_better=lambda name: False) -> list[Change]:
    """Every change between consecutive releases (of each benchmark's own series) by the verdict's rule."""
    changes = []
    for name, points in series(ordered).items():
        if not counted(name):
            continue
        for (i, a), (j, b) in zip(points, points[1:]):
            if a.version != b.version:
                continue  # measured by different benchmark code: not comparable
            d = verdict.decide(a.samples, b.samples, factor, higher_is_better(name))
            if d.verdict in ("regression", "improvement"):
                changes.append(Change(name, labels[i], labels[j], d))
    return changes


def together(changes: list[Change]) -> dict[tuple[str, str], list[Change]]:
    """Changes grouped by the pair of releases they happened between, largest first."""
    groups: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        groups.setdefault((c.before, c.after), []).append(c)
    for group in groups.values():
        group.sort(key=lambda c: -abs(math.log(c.decision.ratio)))
    return groups
