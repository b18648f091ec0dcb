"""`make noise REV=<rev>`: an A/A run, to know which FACTOR `make compare` can trust.

    python -m dask_bench.noise REV [--bench REGEX] [--config asv.conf.json]

Measures one commit twice, in two separate `asv run`s (two results directories under .asv/noise,
sharing asv's environments), then reports every benchmark's run-to-run ratio, whether asv's
significance test calls the difference real, and the smallest FACTOR at which `make compare`
would flag nothing: a change is flagged when it is significant and beyond the factor, so a
benchmark needs a factor of max(ratio, 1/ratio) when its difference is significant (or, for a
track_ benchmark, which has no statistics, always), and none otherwise.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
from pathlib import Path

import tabulate

from .asv_config import MAIN_CONFIG, REPO_ROOT, derive
from .compare import CompareError, Side, compare, load_config, measure, resolve

NOISE_DIR = REPO_ROOT / ".asv" / "noise"


def family(benchmark: str) -> str:
    return benchmark.split("(")[0].rsplit(".", 1)[0]


def needed_factor(row) -> float:
    """The smallest factor at which this A/A pair is not flagged (1.0: never flagged)."""
    if math.isnan(row.ratio) or row.ratio <= 0:
        return 1.0
    if row.verdict in ("regression", "improvement") or row.err_before is None:  # significant, or no stats
        return max(row.ratio, 1 / row.ratio)
    return 1.0


def significance(row) -> str:
    if row.err_before is None:
        return "track: no statistics"
    return "yes" if row.verdict in ("regression", "improvement") else "no"


def report(rows, rev: str) -> tuple[str, float]:
    lines = [f"### A/A noise of distributed {rev}: two separate runs of the same commit\n"]
    table = [[r.benchmark + ("" if r.counted else " (not counted)"),
              f"{r.ratio:.3f}" if not math.isnan(r.ratio) else "n/a", significance(r), f"{needed_factor(r):.3f}"]
             for r in rows]
    lines.append(tabulate.tabulate(table, headers=["Benchmark", "Run 2 / run 1", "Significant", "Factor needed"],
                                   tablefmt="github"))
    by_family: dict[str, list] = {}
    for r in rows:
        by_family.setdefault(family(r.benchmark), []).append(r)
    fam = [[name, f"{statistics.median(abs(math.log(r.ratio)) for r in rs if r.ratio > 0) * 100:.1f}%",
            f"{max(needed_factor(r) for r in rs if r.counted):.3f}" if any(r.counted for r in rs) else "not counted"]
           for name, rs in sorted(by_family.items())]
    lines.append("\nPer family: median run-to-run difference, and the factor its counted benchmarks need\n")
    lines.append(tabulate.tabulate(fam, headers=["Family", "Median run-to-run change", "Factor needed"], tablefmt="github"))
    floor = max((needed_factor(r) for r in rows if r.counted), default=1.0)
    smallest = math.ceil(floor * 100) / 100
    lines.append(f"\nSmallest FACTOR at which `make compare` flags nothing: **{smallest:.2f}**"
                 f" (baselines and the search's quality are never counted)\n")
    return "\n".join(lines), smallest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.noise", description=__doc__.split("\n\n")[0])
    parser.add_argument("rev")
    parser.add_argument("--bench", "-b", action="append", default=[])
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    parser.add_argument("--machine")
    parser.add_argument("--workdir", type=Path, default=NOISE_DIR)
    parser.add_argument("--markdown", type=Path, default=REPO_ROOT / "noise.md")
    parser.add_argument("--no-run", action="store_true", help="analyse the two runs already in --workdir")
    args = parser.parse_args(argv)
    try:
        conf = load_config(args.config)
        commit = resolve(conf, args.rev)
        sides = []
        for run in (1, 2):
            results = args.workdir / f"run-{run}"
            config = derive(args.workdir / f"run-{run}.conf.json", args.config, results_dir=results)
            if not args.no_run:
                shutil.rmtree(results, ignore_errors=True)  # a fresh measurement each time, never reused
                print(f"noise: run {run} of 2 of {args.rev}", flush=True)
                measure(config, commit, args.bench)
            sides.append(Side(str(results), commit))
        rows = compare(load_config(config), sides[0], sides[1], factor=1.0 + 1e-9, machine=args.machine,
                       only=args.bench or None)
    except CompareError as exc:
        print(f"noise: error: {exc}", file=sys.stderr)
        return 2
    text, _ = report(rows, args.rev)
    print(text)
    args.markdown.write_text(text)
    print(f"(written to {args.markdown})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
