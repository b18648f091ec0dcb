"""`make ab REV=<rev> VARIANT=<name>`: one commit under two dask configurations, side by side.

    python -m dask_bench.host.ab REV [--variant queuing] [--bench REGEX] [--workdir .asv/ab] [--no-run]

A variant is a dask setting given as an environment variable (dask reads DASK_* variables into
its config) with two values: A, the default, and B. It runs through asv's matrix: a derived
configuration adds `"env_nobuild": {VARIABLE: [A, B]}` to asv.conf.json's matrix, so asv runs
every benchmark once per value in the same built environment, and stores each value's results
under its own environment name (the variable and value are part of it). The two never overwrite
each other nor the plain runs, and `asv publish` shows them as separate environments.

To add a variant, add an entry to VARIANTS below: name -> (variable, default value, other value).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import asvapi
from .asv_config import MAIN_CONFIG, OUT_DIR, REPO_ROOT, derive
from .cli import ToolError, guarded_main
from .compare import Side, check_options, compare, measure_interleaved, measurement_options, render
from .revisions import load_config, resolve
from .results import ResultsError, runs

VARIANTS = {
    # Queuing of root tasks on the scheduler (on by default since 2022.11): inf turns it off.
    "queuing": ("DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION", "1.1", "inf"),
    "work-stealing": ("DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING", "True", "False"),
    # How long the scheduler waits before it rebalances with stealing.
    "stealing-interval": ("DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING_INTERVAL", "1s", "100ms"),
}


WORK_DIR = REPO_ROOT / ".asv" / "ab"


def variant_config(name: str, base: Path = MAIN_CONFIG, workdir: Path = WORK_DIR) -> Path:
    variable, a, b = VARIANTS[name]
    matrix = asvapi.load_json(str(base), js_comments=True).get("matrix", {})
    matrix = {**matrix, "env_nobuild": {**matrix.get("env_nobuild", {}), variable: [a, b]}}
    return derive(workdir / f"{name}.conf.json", base, matrix=matrix, results_dir=workdir / name)


def env_names(results_dir, commit: str, variable: str, value: str) -> tuple[str, ...]:
    return tuple(sorted({r.env_name for r in runs(Path(results_dir)) if r.commit == commit
                         and r.env_vars.get(variable) == value}))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.ab", description=__doc__.split("\n\n")[0],
                                     epilog="variants: " + ", ".join(f"{k} ({v[0]}: {v[1]} vs {v[2]})"
                                                                     for k, v in VARIANTS.items()))
    parser.add_argument("rev")
    parser.add_argument("--variant", default="queuing", choices=sorted(VARIANTS))
    measurement_options(parser, WORK_DIR, None)
    args = parser.parse_args(argv)
    variable, a, b = VARIANTS[args.variant]
    try:
        check_options(args)
        config = variant_config(args.variant, args.config, args.workdir)
        commit = resolve(load_config(config), args.rev)
        both = Side(f"{variable}={a},{b}", config, commit)
        if not args.no_run:  # one asv run per round measures both environments, A then B (asv's matrix order)
            measure_interleaved([both], args.bench, args.rounds)
        sides = []
        for value in (a, b):
            names = env_names(both.results_dir, commit, variable, value)
            if not names and args.no_run:
                raise ToolError(f"no results of {args.rev} with {variable}={value} in {both.results_dir}: "
                                   "run without --no-run first")
            if len(names) != 1:
                raise ToolError(f"expected one environment with {variable}={value}, found {list(names)}")
            sides.append(Side(f"{variable}={value}", config, commit, names))
        rows = compare(sides[0], sides[1], args.factor, only=args.bench or None)
    except (ToolError, ResultsError) as exc:
        print(f"ab: error: {exc}", file=sys.stderr)
        return 2
    text = render(rows, sides[0], sides[1], args.factor, title=f"distributed {args.rev}: {variable} {a} (A) -> {b} (B)")
    print(text)
    markdown = args.markdown or OUT_DIR / f"ab-{args.variant}.md"
    markdown.parent.mkdir(parents=True, exist_ok=True)
    markdown.write_text(text)
    print(f"(written to {markdown})")
    return 0


if __name__ == "__main__":
    sys.exit(guarded_main(main=main, prog="ab"))
