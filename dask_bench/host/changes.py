"""Change points in the history of releases: where a benchmark stepped, by how much, with what else.

The detector is the verdict's own rule (dask_bench.host.verdict: round medians judged against the
cluster-to-cluster noise this machine's calibration measured, Mann-Whitney U on the samples, minimum
effect size) applied to each pair of consecutive releases that both have samples. The releases of a
history are separate runs, each on its own cluster, and a cluster can land ~10% off the next one of
the same code: a single release measured off-level is flagged
against both its neighbours and swings back. So a flagged pair is a *step* only when it holds
against the neighbours on both sides: the release before the step and the one before it are both
flagged (the same way) against the release after it and the one after that. A flag that does not
hold is *transient* (one release off, reported and counted apart); a flag whose neighbour does not
exist yet (the newest or oldest release) is *unconfirmed* until the next release is measured.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

from . import verdict
from .results import Run, label, same_sitting


@dataclass(frozen=True)
class Change:
    benchmark: str
    before: str   # release labels
    after: str
    decision: verdict.Decision
    kind: str = "step"  # step (holds against the neighbours), transient, or unconfirmed (a neighbour missing)

    @property
    def direction(self) -> str:
        return "slower" if self.decision.ratio > 1 else "faster"


def median_interval(samples, confidence: float = 0.95) -> tuple[float, float]:
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
           higher_is_better=lambda name: False, noise: dict | None = None) -> list[Change]:
    """Every change between consecutive releases (of each benchmark's own series) by the verdict's rule;
    `noise`: the calibrated cluster noise per benchmark (verdict.calibrated_noise)."""
    changes = []
    noise = noise or {}
    for name, points in series(ordered).items():
        if not counted(name):
            continue
        better = higher_is_better(name)
        for k in range(len(points) - 1):
            (i, a), (j, b) = points[k], points[k + 1]
            if a.version != b.version or not same_sitting(a, b):
                continue  # other benchmark code, or another sitting (another day): not comparable
            d = verdict.decide(a.rounds, b.rounds, factor, better, prior=noise.get(name))
            if d.verdict in ("regression", "improvement"):
                changes.append(Change(name, labels[i], labels[j], d,
                                      _kind(points, k, d.verdict, factor, better, noise.get(name))))
    return changes


def _kind(points, k: int, flagged: str, factor: float, better: bool, prior=None) -> str:
    """Whether the flag between points k and k+1 holds against the neighbours (see the module's doc)."""
    befores = [m for _, m in points[max(0, k - 1):k + 1]]
    afters = [m for _, m in points[k + 1:k + 3]]
    version = points[k][1].version
    for a in befores:
        for b in afters:
            if (a, b) == (befores[-1], afters[0]):
                continue  # the flagged pair itself
            if a.version == b.version == version and same_sitting(a, b) and verdict.decide(a.rounds, b.rounds, factor, better,
                                                                    prior=prior).verdict != flagged:
                return "transient"
    complete = len(befores) == 2 and len(afters) == 2 and all(
        m.version == version and same_sitting(m, befores[-1]) for m in befores + afters)
    return "step" if complete else "unconfirmed"


def together(changes: list[Change]) -> dict[tuple[str, str], list[Change]]:
    """Changes grouped by the pair of releases they happened between, largest first."""
    groups: dict[tuple[str, str], list[Change]] = {}
    for c in changes:
        groups.setdefault((c.before, c.after), []).append(c)
    for group in groups.values():
        group.sort(key=lambda c: -abs(math.log(c.decision.ratio)))
    return groups
