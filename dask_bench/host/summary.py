"""Print this machine's newest run, each dask figure beside its baseline (the end of `make bench`).

    python -m dask_bench.host.summary [--results .asv/results] [--machine local-<host>] [--commit HASH]

By default the run `make bench` stored for this machine (asv_config.LOCAL_RESULTS); when the baselines
say the machine itself moved against the committed history, one line says so.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .asv_config import LOCAL_RESULTS, local_machine
from .cli import command
from .results import (RESULTS_DIR, ResultsError, benchmark_info, format_params, format_value, machine_moved,
                      paired_baseline, require_machine, runs)


def rows(run, info):
    """(label, value, baseline value or None, unit) for every dask benchmark of a run."""
    for (name, params), value in sorted(run.values.items()):
        if name.startswith("baselines."):
            continue
        label = f"{name}({format_params(params)})" if params else name
        paired = paired_baseline(run, name, params)
        yield label, value, paired[1] if paired else None, info.get(name, {}).get("unit", "")


def summarize(results_dir: Path, machine: str | None = None, commit: str | None = None,
              markdown: bool = False) -> str:
    machine = require_machine(results_dir, machine)
    candidates = [r for r in runs(results_dir, machine)
                  if not r.env_vars and (not commit or r.commit.startswith(commit))]
    if not candidates:
        raise SystemExit(f"summary: no results in {results_dir}{f' for {commit}' if commit else ''}; run: make bench")
    run = max(candidates, key=lambda r: (r.date, r.path.stat().st_mtime))
    table = list(rows(run, benchmark_info(results_dir)))
    if markdown:
        lines = ["| benchmark (parameters) | median or value | baseline | dask / baseline |", "|---|---:|---:|---:|"]
        for label, value, base, unit in table:
            lines.append(f"| `{label}` | {format_value(value, unit)} | "
                         + (f"{format_value(base, unit)} | {value / base:.3g}x |" if base else " | |"))
        return "\n".join(lines)
    lines = [f"{run.machine}, distributed {run.commit[:8]} ({run.env_name}):", ""]
    if not table:
        return "\n".join([*lines[:1], "  (no dask benchmark in this run: only baselines)"])
    moved = drift_line(run, results_dir)
    if moved:
        lines[1:1] = [moved, ""]
    width = max(len(label) for label, *_ in table) + 2
    for label, value, base, unit in table:
        line = f"  {label:<{width}} {format_value(value, unit):>16}"
        if base is not None:
            line += f"   baseline {format_value(base, unit):>16}   ({value / base:.3g}x)"
        lines.append(line)
    return "\n".join(lines)


def drift_line(run, results_dir: Path) -> str | None:
    """machine_moved's line when `run` is not itself of the committed history."""
    if Path(results_dir).resolve() == RESULTS_DIR.resolve():
        return None
    try:
        machine = require_machine(RESULTS_DIR, None)
    except ResultsError:
        return None
    sitting = sorted((r for r in runs(RESULTS_DIR, machine) if not r.env_vars), key=lambda r: r.date)
    return machine_moved(run, sitting)


@command("summary")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.summary", description=__doc__.split("\n")[0])
    parser.add_argument("--results", type=Path, default=LOCAL_RESULTS)
    parser.add_argument("--machine", default=local_machine())
    parser.add_argument("--commit")
    parser.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = parser.parse_args(argv)
    print(summarize(args.results, args.machine, args.commit, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
