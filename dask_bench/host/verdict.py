"""The decision rule shared by compare, noise, ab, calibrate, bisect and the history: one benchmark,
two sides, each measured in one or more rounds (a round is one asv process: one cluster).

Why rounds matter: the samples of one round come from one cluster, and a cluster can sit 5-20% off
another cluster of the same code for its whole life (measured by `make calibrate`: the calibration
records, per benchmark, this cluster-to-cluster noise). Samples of one round are therefore not
independent evidence: two clusters of the same code, 12 samples each, pass Mann-Whitney at p < 1e-4.
So the unit of evidence is the round, and the noise a difference is judged against is the spread
of round medians.

A benchmark changed (regressed or improved) when all three hold:

1. **Significance between clusters**: the difference of the sides' mean log round-medians, judged
   by a t-test against the spread of round medians within a side. That spread pools what the
   comparison itself shows (rounds beyond the first of each side) with the cluster noise this
   machine's calibration measured for the benchmark (its degrees of freedom added): p < ALPHA
   (0.01), i.e. the 99% interval of the ratio excludes 1. With neither (one round per side, no
   calibration of this machine) the benchmark is "too few rounds": shown, never counted. A table
   of many benchmarks adjusts these p-values together (`adjusted`: Benjamini-Hochberg).
2. **Significance within the samples**: Mann-Whitney U, two-sided, p < ALPHA on the raw samples
   (rank-based, so the long right tails of timing data do not dominate).
3. **Size**: the ratio is beyond the minimum effect size, the FACTOR (worse by at least FACTOR, or
   better by at least 1/FACTOR).

The ratio is the geometric mean of round medians after over before (the ratio of medians for one
round each), oriented so that above 1 is worse: after/before for times, before/after for rates
(HIGHER_IS_BETTER_UNITS). A side with fewer than MIN_SAMPLES samples is "too few samples", and a
benchmark without samples (a track_ value) is "no statistics": both are shown, never counted.
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import stats

from .results import ResultsError, three_digits

ALPHA = 0.01
CONFIDENCE = 1 - ALPHA  # the interval shown is the one the rule uses
RESAMPLES = 2000
MIN_SAMPLES = 5
# Paired blocks: the signed-rank test on n pairs cannot go below p = 2 / 2**n, under ALPHA from 8 on
MIN_PAIRS = 8
# Segments of paired blocks are pooled unless a one-way ANOVA finds them apart at this level (decide_paired)
POOL_ALPHA = 0.25
# How a table marks each verdict
MARKS = {"regression": "+", "improvement": "-", "slower": "+", "faster": "-", "failing": "!", "fixed": "*",
         "not comparable": "x", "insignificant": "~", "inconclusive": "?", "too few samples": "?", "too few rounds": "?"}
# The paired verdict's outcomes that a table counts (verdict_of)
SLOWER, FASTER, SAME, INCONCLUSIVE = "slower", "faster", "same", "inconclusive"
HIGHER_IS_BETTER_UNITS = frozenset({"tasks/s", "x faster"})
# The interleaved verdict's cluster noise per benchmark (make calibrate, committed; docs/calibration.md)
CLUSTER_NOISE = Path(__file__).resolve().parent.parent.parent / "results" / "calibration" / "interleaved-2026.8.0.json"


@dataclass(frozen=True)
class Noise:
    """Cluster-to-cluster noise of one benchmark: the standard deviation of log round-medians of the
    same code, and its degrees of freedom (rounds measured minus sides)."""
    sd: float
    df: int


@dataclass(frozen=True)
class Decision:
    verdict: str            # regression, improvement, same, insignificant, too few samples/rounds, no statistics
    ratio: float            # oriented: above 1 is worse; nan without data
    low: float = math.nan   # the CONFIDENCE interval of `ratio`
    high: float = math.nan
    p: float = math.nan     # the test between clusters (rounds), or between pairs of blocks
    p_samples: float = math.nan  # Mann-Whitney U on the raw samples, or the signed-rank test on the pairs
    factor: float = math.nan  # the paired verdict's: the zone [1/factor, factor] is "same"
    alpha: float = ALPHA      # the level of its tests and interval (a sequential look's is lower)

    @property
    def significant(self) -> bool:
        return self.p < self.alpha and self.p_samples < self.alpha and (self.low > 1 or self.high < 1)


def as_rounds(side) -> list[np.ndarray]:
    """A side's samples as a list of rounds: a flat sequence of floats is one round."""
    if side is None or len(side) == 0:
        return []
    if np.ndim(side[0]) == 0:
        return [np.asarray(side, float)]
    return [np.asarray(r, float) for r in side if len(r)]


def log_round_medians(rounds: list[np.ndarray]) -> np.ndarray:
    return np.log([np.median(r) for r in rounds])


def pooled_noise(sides: list[list[np.ndarray]]) -> Noise | None:
    """The spread of log round-medians around each side's mean, pooled over sides (of the same code
    or each with its own code): None when no side has two rounds."""
    squares, df = 0.0, 0
    for rounds in sides:
        if len(rounds) > 1:
            logs = log_round_medians(rounds)
            squares += float(np.sum((logs - logs.mean()) ** 2))
            df += len(logs) - 1
    return Noise(math.sqrt(squares / df), df) if df else None


def combine(own: Noise | None, prior: Noise | None) -> Noise | None:
    parts = [n for n in (own, prior) if n is not None]
    if not parts:
        return None
    df = sum(n.df for n in parts)
    return Noise(math.sqrt(sum(n.df * n.sd ** 2 for n in parts) / df), df)


def decide(before, after, factor: float, higher_is_better: bool = False, prior: Noise | None = None) -> Decision:
    """The verdict on two sides: each a flat sequence of samples (one round) or a list of rounds;
    None where there are no samples. `prior`: the calibrated cluster noise of this benchmark."""
    b_rounds, a_rounds = as_rounds(before), as_rounds(after)
    if not b_rounds or not a_rounds:
        return Decision("no statistics", math.nan)
    if higher_is_better:  # a rate that falls is worse: compare the reciprocals (times per unit)
        b_rounds, a_rounds = [1 / r for r in b_rounds], [1 / r for r in a_rounds]
    b_logs, a_logs = log_round_medians(b_rounds), log_round_medians(a_rounds)
    shift = float(a_logs.mean() - b_logs.mean())
    ratio = math.exp(shift)
    b_all, a_all = np.concatenate(b_rounds), np.concatenate(a_rounds)
    if len(b_all) < MIN_SAMPLES or len(a_all) < MIN_SAMPLES:
        return Decision("too few samples", ratio)
    p_samples = float(stats.mannwhitneyu(b_all, a_all, alternative="two-sided").pvalue)
    noise = combine(pooled_noise([b_rounds, a_rounds]), prior)
    if noise is None:
        return Decision("too few rounds", ratio, p_samples=p_samples)
    se = max(noise.sd, 1e-12) * math.sqrt(1 / len(b_logs) + 1 / len(a_logs))
    p = float(2 * stats.t.sf(abs(shift) / se, noise.df))
    half = float(stats.t.ppf(1 - ALPHA / 2, noise.df)) * se
    low, high = math.exp(shift - half), math.exp(shift + half)
    decision = Decision("same", ratio, low, high, p, p_samples)
    beyond = ratio >= factor or ratio <= 1 / factor
    if decision.significant and beyond:
        return Decision("regression" if ratio > 1 else "improvement", ratio, low, high, p, p_samples)
    if beyond:
        return Decision("insignificant", ratio, low, high, p, p_samples)
    return decision


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
    out = []
    for d, p in zip(decisions, ps):
        d = replace(d, p=float(p))
        if not math.isnan(d.factor):  # a paired decision: its three outcomes again
            d = replace(d, verdict=three_way(d))
        elif d.verdict in ("regression", "improvement") and not d.significant:
            d = replace(d, verdict="insignificant")
        out.append(d)
    return out


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


# -- the calibrated cluster noise of a machine -----------------------------------------------------

def calibrated_noise(machine: str, path: Path = CLUSTER_NOISE) -> dict[str, Noise]:
    """benchmark label -> Noise, from the interleaved calibration `make calibrate` wrote and that is
    committed at `path` (named here, never found by glob: committing another calibration changes no
    verdict until this name does); {} when it is of another machine or absent. A file that cannot be
    read stops the verdict (ResultsError naming it): judging without it would silently judge
    against a different noise."""
    if not Path(path).exists():
        return {}
    try:
        data = json.loads(Path(path).read_text())
        if data.get("machine") != machine:
            return {}
        return {name: Noise(float(n["sd"]), int(n["df"])) for name, n in data["cluster_noise"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ResultsError(f"{path} is not a readable calibration ({type(exc).__name__}: "
                           f"{' '.join(str(exc).split())[:80]}); restore it (git checkout -- {path}), "
                           "or run make calibrate") from None
