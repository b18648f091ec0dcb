"""`make noise REV=<rev>`: an A/A run, to know which FACTOR `make compare` can trust.

    python -m dask_bench.host.noise REV [--bench REGEX] [--rounds 2]

Measures one commit as two sides, interleaved exactly as `make compare` measures BASE and HEAD
(two results directories under .asv/noise), then reports, per benchmark: the run-to-run ratio with
its confidence interval, whether the decision rule would flag it, the smallest FACTOR at which it
is not flagged, and the minimum detectable effect the pair implies (dask_bench.host.verdict).
A benchmark with too few samples is reported as blind, not as stable.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys

import tabulate

from . import verdict
from .asv_config import REPO_ROOT
from .compare import (CompareError, Side, check_options, compare, load_config, measure_interleaved,
                      measurement_options, resolve, side_config)
from .results import ResultsError

NOISE_DIR = REPO_ROOT / ".asv" / "noise"


def family(benchmark: str) -> str:
    return benchmark.split("(")[0].rsplit(".", 1)[0]


def needed_factor(row) -> float:
    """The smallest factor at which this A/A pair is not flagged (1.0: not flagged at any factor;
    nan: the pair cannot tell, too few samples or no statistics)."""
    d = row.decision
    if d.verdict in ("too few samples", "too few rounds", "no statistics", "n/a", "not comparable") or math.isnan(d.ratio):
        return math.nan
    return max(d.ratio, 1 / d.ratio) if d.significant else 1.0


def _fmt(x: float, blind: str = "blind") -> str:
    return blind if math.isnan(x) else f"{x:.3f}"


def report(rows, rev: str, factor: float) -> tuple[str, float]:
    lines = [f"### A/A noise of distributed {rev}: the same commit as two interleaved sides (factor {factor:g})\n"]
    table = [[r.benchmark + ("" if r.counted else " (not counted)"), verdict.format_ratio(r.decision),
              "" if math.isnan(r.decision.p) else f"{r.decision.p:.2g}", r.verdict,
              _fmt(needed_factor(r)), _fmt(verdict.detectable_effect(r.decision, factor) * 100, "n/a")]
             for r in rows]
    lines.append(tabulate.tabulate(table, headers=["Benchmark", f"Ratio [{verdict.CONFIDENCE:.0%} CI]", "p", "Verdict", "Factor needed",
                                                   "Detectable effect %"], tablefmt="github", disable_numparse=True))
    by_family: dict[str, list] = {}
    for r in rows:
        by_family.setdefault(family(r.benchmark), []).append(r)
    fam = []
    for name, rs in sorted(by_family.items()):
        ratios = [abs(math.log(r.ratio)) for r in rs if r.ratio == r.ratio and r.ratio > 0]
        counted = [r for r in rs if r.counted]
        mdes = [verdict.detectable_effect(r.decision, factor) for r in counted]
        fam.append([name, f"{statistics.median(ratios) * 100:.1f}%" if ratios else "n/a",
                    _fmt(max((needed_factor(r) for r in counted), default=math.nan)) if counted else "not counted",
                    f"{max(mdes) * 100:.1f}%" if mdes and not any(map(math.isnan, mdes)) else
                    ("not counted" if not counted else "blind")])
    lines.append("\nPer family: median run-to-run change, the factor its counted benchmarks need, the largest "
                 "minimum detectable effect\n")
    lines.append(tabulate.tabulate(fam, headers=["Family", "Median change", "Factor needed", "Detectable effect"],
                                   tablefmt="github", disable_numparse=True))
    needed = [needed_factor(r) for r in rows if r.counted]
    blind = [r.benchmark for r, n in zip([r for r in rows if r.counted], needed) if math.isnan(n)]
    floor = max((n for n in needed if not math.isnan(n)), default=1.0)
    smallest = math.ceil(floor * 100) / 100
    lines.append(f"\nSmallest FACTOR at which `make compare` flags nothing: **{smallest:.2f}**"
                 + (f"; blind (too few samples or rounds): {', '.join(blind)}" if blind else "") + "\n")
    return "\n".join(lines), smallest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.noise", description=__doc__.split("\n\n")[0])
    parser.add_argument("rev")
    measurement_options(parser, NOISE_DIR, REPO_ROOT / "noise.md")
    args = parser.parse_args(argv)
    try:
        check_options(args)
        commit = resolve(load_config(args.config), args.rev)
        sides = [Side(f"{args.rev} (run {i})", side_config(f"run-{i}", args.config, args.workdir), commit)
                 for i in (1, 2)]
        if not args.no_run:
            measure_interleaved(sides, args.bench, args.rounds)
        rows = compare(sides[0], sides[1], args.factor, only=args.bench or None)
    except (CompareError, ResultsError) as exc:
        print(f"noise: error: {exc}", file=sys.stderr)
        return 2
    text, _ = report(rows, args.rev, args.factor)
    print(text)
    args.markdown.write_text(text)
    print(f"(written to {args.markdown})")
    return 0


if __name__ == "__main__":
    from .compare import guarded_main

    sys.exit(guarded_main(main=main, prog="noise"))
