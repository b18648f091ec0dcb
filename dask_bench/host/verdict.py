"""The verdict: one benchmark, two revisions measured side by side in pairs of blocks
(dask_bench.host.paired), judged slower, faster, same or inconclusive. The rule, its statistics
and their calibration: docs/verdict.md.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

from .results import three_digits

ALPHA = 0.01
CONFIDENCE = 1 - ALPHA  # the interval shown is the one the rule uses
# Paired blocks: the signed-rank test on n pairs cannot go below p = 2 / 2**n, under ALPHA from 8 on
MIN_PAIRS = 8
# Segments of paired blocks are pooled unless a one-way ANOVA finds them apart at this level (decide_paired)
POOL_ALPHA = 0.25
# How a table marks each verdict
MARKS = {"slower": "+", "faster": "-", "failing": "!", "fixed": "*", "inconclusive": "?", "too few samples": "?"}
# The paired verdict's outcomes that a table counts (verdict_of)
SLOWER, FASTER, SAME, INCONCLUSIVE = "slower", "faster", "same", "inconclusive"


@dataclass(frozen=True)
class Decision:
    verdict: str            # slower, faster, same, inconclusive; too few samples, no statistics; failing, fixed, failed
    ratio: float            # oriented: above 1 is worse; nan without data
    low: float = math.nan   # the CONFIDENCE interval of `ratio`
    high: float = math.nan
    p: float = math.nan     # the t-test on the pairs of blocks (or their segments' means)
    p_samples: float = math.nan  # the signed-rank test on the pairs
    factor: float = math.nan  # the paired verdict's: the zone [1/factor, factor] is "same"
    alpha: float = ALPHA      # the level of its tests and interval (a sequential look's is lower)

    @property
    def significant(self) -> bool:
        """The t-test at the look's level (the error a sequential design spends) and the signed-rank
        test, a guard against a t-test carried by a few pairs, at ALPHA: together they reject no more
        often than the t-test alone, and the rank test's smallest p on n pairs, 2 / 2**n, would
        otherwise forbid any stop before 11 or 12 pairs, however large the change."""
        return self.p < self.alpha and self.p_samples < ALPHA and (self.low > 1 or self.high < 1)


def decide_paired(before_blocks, after_blocks, factor: float, segments=None, alpha: float = ALPHA) -> Decision:
    """The verdict on blocks measured side by side (dask_bench.host.paired): block i of each side was
    measured next to the other's, so the machine's drift (which moves both alike) cancels in the
    pair's log ratio d_i = log median(after_i) - log median(before_i). Between blocks: a t-test on
    the d_i (the interval shown); within: the Wilcoxon signed-rank test on them (ranks, as
    Mann-Whitney on samples); the outcome: `three_way` (slower, faster, same or inconclusive).

    `segments`: how many consecutive pairs each segment holds (a fresh pair of servers each, see
    paired.measure), None for one. Two clusters can sit apart for their whole life, so the pairs of
    one segment can share an offset and are then not independent evidence. When the segments' means
    differ beyond what their pairs' spread explains (one-way ANOVA, p < POOL_ALPHA) the segment is the
    unit: the t-test runs on the segment means (S - 1 degrees of freedom), and the ratio is their
    geometric mean. Otherwise the pairs are pooled as one segment. The Wilcoxon test stays on the
    pairs: on S segment means its smallest p is 2 / 2^S (0.125 for 4, 0.0078 for 8), too coarse to
    pass at 0.01 unless every segment leans one way. (The "sometimes pool" rule for a random
    effect: a preliminary test at 0.25 keeps the test's level near nominal, Bozivich, Bancroft and
    Hartley 1956.) `alpha`: the level of the tests and the interval (a sequential look's, `boundaries`)."""
    kept = [(np.asarray(b, float), np.asarray(a, float), s)
            for (b, a), s in zip(zip(before_blocks, after_blocks), segment_ids(segments, len(before_blocks)))
            if len(b) and len(a)]
    if not kept:
        return Decision("no statistics", math.nan)
    d = np.array([math.log(np.median(a) / np.median(b)) for b, a, _ in kept])
    ids = np.array([s for _, _, s in kept])
    if len(d) < MIN_PAIRS:
        return Decision("too few samples", math.exp(float(d.mean())), alpha=alpha)
    units = d
    groups = [d[ids == s] for s in np.unique(ids)]
    if len(groups) > 1 and all(len(g) > 1 for g in groups) and segments_differ(groups):
        units = np.array([g.mean() for g in groups])
    mean = float(units.mean())
    ratio = math.exp(mean)
    se = max(float(units.std(ddof=1)), 1e-12) / math.sqrt(len(units))
    p = float(2 * stats.t.sf(abs(mean) / se, len(units) - 1))
    half = float(stats.t.ppf(1 - alpha / 2, len(units) - 1)) * se
    low, high = math.exp(mean - half), math.exp(mean + half)
    p_ranks = float(stats.wilcoxon(d).pvalue) if np.any(d != 0) else 1.0
    decision = Decision(SAME, ratio, low, high, p, p_ranks, factor, alpha)
    return replace(decision, verdict=three_way(decision))


def three_way(d: Decision) -> str:
    """The paired verdict, an equivalence test beside the test of a difference (as Chromium's
    Pinpoint answers): "slower" or "faster" when the change is significant (both tests p < ALPHA, the
    interval excludes 1) and the ratio is beyond the factor; "same" only when the whole interval
    lies within [1/factor, factor], the zone the factor calls negligible; otherwise "inconclusive":
    the interval reaches beyond the factor and the evidence cannot say which side it is on."""
    if d.significant and (d.ratio >= d.factor or d.ratio <= 1 / d.factor):
        return SLOWER if d.ratio > 1 else FASTER
    if 1 / d.factor <= d.low and d.high <= d.factor:
        return SAME
    return INCONCLUSIVE


# -- the sequential verdict: a look after every segment -------------------------------------------

def spent(t: float, alpha: float = ALPHA) -> float:
    """The error spent by information fraction t: Lan and DeMets' (1983) Pocock-type function
    alpha ln(1 + (e - 1) t), which spends early enough to stop on a large change at the first looks."""
    return alpha * math.log(1 + (math.e - 1) * t)


@functools.lru_cache(maxsize=64)
def boundaries(looks: int, alpha: float = ALPHA, paths: int = 400_000) -> tuple[float, ...]:
    """The two-sided nominal level of each of `looks` equally spaced looks of a group-sequential test
    whose overall level is `alpha`: the boundary c_k that a fraction spent(k / looks) - spent((k - 1) /
    looks) of the null paths first crosses at look k, the paths being the standardized sums of
    accumulating data (corr(Z_i, Z_j) = sqrt(i / j)), simulated (seeded: the same levels every run);
    level_k = 2 P(Z > c_k). One look: `alpha` itself."""
    if looks <= 1:
        return (alpha,)
    rng = np.random.default_rng(0)
    z = np.abs(np.cumsum(rng.standard_normal((paths, looks)), axis=1) / np.sqrt(np.arange(1, looks + 1)))
    running = np.ones(paths, dtype=bool)
    levels = []
    for k in range(looks):
        crossing = int(round((spent((k + 1) / looks, alpha) - spent(k / looks, alpha)) * paths))
        values = np.sort(z[running, k])[::-1]
        c = float(values[max(crossing, 1) - 1])
        running &= z[:, k] < c
        levels.append(float(2 * stats.norm.sf(c)))
    return tuple(levels)


def settled(d: Decision) -> bool:
    """Whether a look's decision can stop measuring: slower, faster or same at that look's level."""
    return d.verdict in (SLOWER, FASTER, SAME)


def verdict_text(d: Decision) -> str:
    """The verdict, with the size and direction of any change whose interval excludes 1, whatever the
    verdict says ("same, +3.1%"): a clear change is never hidden behind "same"."""
    if d.verdict in (SAME, INCONCLUSIVE) and not math.isnan(d.low) and (d.low > 1 or d.high < 1):
        return f"{d.verdict}, {(d.ratio - 1) * 100:+.1f}%"
    return d.verdict


def segment_ids(segments, pairs: int) -> list[int]:
    """The segment of each of `pairs` consecutive pairs, given each segment's size (None: one)."""
    if not segments:
        return [0] * pairs
    if sum(segments) != pairs:
        raise ValueError(f"segments of {sum(segments)} pairs for {pairs} pairs")
    return [k for k, size in enumerate(segments) for _ in range(size)]


def segments_differ(groups: list[np.ndarray]) -> bool:
    """Whether the segments' mean log ratios differ beyond their pairs' spread (one-way ANOVA)."""
    if not any(np.ptp(g) > 0 for g in groups):  # every segment constant: differ if their means do
        return len({float(g[0]) for g in groups}) > 1
    return float(stats.f_oneway(*groups).pvalue) < POOL_ALPHA


def adjusted(decisions: list[Decision]) -> list[Decision]:
    """Decisions of many benchmarks judged together: each p between clusters replaced by its
    Benjamini-Hochberg adjusted value (scipy.stats.false_discovery_control) and the verdict taken
    again, so that among the changes a table flags at most ALPHA are expected false, and a table of
    the same code flags anything with probability about ALPHA (not ALPHA per benchmark). The
    interval shown stays the benchmark's own."""
    if not decisions:
        return []
    ps = stats.false_discovery_control([d.p for d in decisions], method="bh")
    return [replace(d, p=float(p), verdict=three_way(replace(d, p=float(p)))) for d, p in zip(decisions, ps)]


def format_ratio(d: Decision) -> str:
    """'1.23 [1.18, 1.29]': the ratio and its confidence interval, three significant digits."""
    if math.isnan(d.ratio):
        return "n/a"
    text = three_digits(d.ratio)
    if not math.isnan(d.low):
        text += f" [{three_digits(d.low)}, {three_digits(d.high)}]"
    return text


def detectable_effect(aa: Decision, factor: float) -> float:
    """The minimum detectable effect (a fraction: 0.05 is 5%) that an A/A comparison implies.

    A real change of size e is flagged when the interval of its ratio excludes 1 and the ratio is
    beyond the factor. In an A/A pair the interval's relative half-width is the noise of one
    comparison, and the pair's own ratio is the offset two runs of the same code can show; a change
    must exceed both together, and the factor: max(factor, offset x half-width) - 1.
    """
    if math.isnan(aa.ratio) or math.isnan(aa.low):
        return math.nan
    offset = max(aa.ratio, 1 / aa.ratio)
    half_width = max(aa.high / aa.ratio, aa.ratio / aa.low)
    return max(factor, offset * half_width) - 1

