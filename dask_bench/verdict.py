"""The decision rule shared by compare, noise, ab and calibrate: one benchmark, two sets of samples.

A benchmark changed (regressed or improved) when all three hold:

1. **Significance**: Mann-Whitney U, two-sided, p < ALPHA (0.01), on the two sides' raw samples. It
   compares ranks, so the long right tails of timing data (a GC pause, a scheduler tick) do not
   dominate it the way they dominate a t-test.
2. **Confidence**: the 95% bootstrap confidence interval of the ratio of medians (scipy.stats.bootstrap,
   percentile method, 2,000 resamples, fixed seed) lies entirely on one side of 1.
3. **Size**: the ratio of medians is beyond the minimum effect size, the FACTOR (worse by at least
   FACTOR, or better by at least 1/FACTOR).

The ratio is oriented so that above 1 is worse: after/before for times, before/after for rates
(HIGHER_IS_BETTER_UNITS). A side with fewer than MIN_SAMPLES samples is "too few samples", and a
benchmark without samples (a track_ value) is "no statistics": both are shown, never counted.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats

ALPHA = 0.01
CONFIDENCE = 0.95
RESAMPLES = 2000
MIN_SAMPLES = 5
HIGHER_IS_BETTER_UNITS = frozenset({"tasks/s", "x faster"})


@dataclass(frozen=True)
class Decision:
    verdict: str            # regression, improvement, same, insignificant, too few samples, no statistics
    ratio: float            # median(after)/median(before), oriented: above 1 is worse; nan without data
    low: float = math.nan   # the confidence interval of `ratio`
    high: float = math.nan
    p: float = math.nan     # Mann-Whitney U, two-sided

    @property
    def significant(self) -> bool:
        return self.p < ALPHA and (self.low > 1 or self.high < 1)


def ratio_interval(before, after, confidence: float = CONFIDENCE, seed: int = 0) -> tuple[float, float]:
    """Bootstrap confidence interval of median(after) / median(before)."""
    def ratio_of_medians(b, a, axis=-1):
        return np.median(a, axis=axis) / np.median(b, axis=axis)

    result = stats.bootstrap((np.asarray(before, float), np.asarray(after, float)), ratio_of_medians,
                             n_resamples=RESAMPLES, confidence_level=confidence, method="percentile",
                             vectorized=True, paired=False, rng=np.random.default_rng(seed))
    return float(result.confidence_interval.low), float(result.confidence_interval.high)


def decide(before, after, factor: float, higher_is_better: bool = False) -> Decision:
    """The verdict on two sets of samples (sequences of floats, or None where there are none)."""
    if before is None or after is None or len(before) == 0 or len(after) == 0:
        return Decision("no statistics", math.nan)
    before, after = np.asarray(before, float), np.asarray(after, float)
    if higher_is_better:  # a rate that falls is worse: compare the reciprocals (times per unit)
        before, after = 1 / before, 1 / after
    ratio = float(np.median(after) / np.median(before))
    if len(before) < MIN_SAMPLES or len(after) < MIN_SAMPLES:
        return Decision("too few samples", ratio)
    low, high = ratio_interval(before, after)
    p = float(stats.mannwhitneyu(before, after, alternative="two-sided").pvalue)
    decision = Decision("same", ratio, low, high, p)
    beyond = ratio >= factor or ratio <= 1 / factor
    if decision.significant and beyond:
        return Decision("regression" if ratio > 1 else "improvement", ratio, low, high, p)
    if beyond:
        return Decision("insignificant", ratio, low, high, p)
    return decision


def format_ratio(d: Decision) -> str:
    """'1.23 [1.18, 1.29]': the ratio and its confidence interval, three significant digits."""
    if math.isnan(d.ratio):
        return "n/a"
    text = f"{d.ratio:.3g}"
    if not math.isnan(d.low):
        text += f" [{d.low:.3g}, {d.high:.3g}]"
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
