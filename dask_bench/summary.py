"""Print the newest run's numbers, each dask figure beside its baseline (the end of `make bench`).

    python -m dask_bench.summary [--results results] [--machine NAME] [--commit HASH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .results import RESULTS_DIR, baseline_of, benchmark_info, format_params, format_value, runs


def summarize(results_dir: Path, machine: str | None = None, commit: str | None = None) -> str:
    candidates = [r for r in runs(results_dir, machine) if not commit or r.commit.startswith(commit)]
    if not candidates:
        raise SystemExit(f"summary: no results in {results_dir}{f' for {commit}' if commit else ''}; run: make bench")
    run = max(candidates, key=lambda r: (r.date, r.path.stat().st_mtime))
    info = benchmark_info(results_dir)
    names = run.benchmarks
    lines = [f"{run.machine}, distributed {run.commit[:8]} ({run.env_name}):", ""]
    width = max(len(n) for n in names) + 2
    for (name, params), value in sorted(run.values.items()):
        if name.startswith("baselines."):
            continue
        unit = info.get(name, {}).get("unit", "")
        label = f"{name}({format_params(params)})" if params else name
        line = f"  {label:<{width + 16}} {format_value(value, unit):>14}"
        base = baseline_of(name, names)
        if base and (base, params) in run.values:
            base_value = run.values[(base, params)]
        elif base and len({p for n, p in run.values if n == base}) == 1:
            base_value = next(v for (n, _), v in run.values.items() if n == base)  # unparameterized baseline
        else:
            base_value = None
        if base_value is not None:
            line += f"   baseline {format_value(base_value, unit):>12}   ({value / base_value:.3g}x)"
        lines.append(line)
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.summary", description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--machine")
    parser.add_argument("--commit")
    args = parser.parse_args(argv)
    print(summarize(args.results, args.machine, args.commit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
