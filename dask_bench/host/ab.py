"""`make ab REV=<rev> VARIANT=<name>`: one build of distributed under two dask settings, side by side.

    python -m dask_bench.host.ab REV [--variant queuing] [-b REGEX] [--blocks N] [--factor F]

A variant is a dask setting given as an environment variable (dask reads DASK_* variables into its
config) with two values: A, the default, and B. Both sides run REV's one build, at once, each server
with its own value, their blocks alternating and judged as `./compare` judges two revisions
(dask_bench.host.paired). To add a variant, add an entry to VARIANTS: name -> (variable, A, B).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from .. import policy
from . import paired
from .asv_config import MAIN_CONFIG, OUT_DIR, REPO_ROOT
from .cli import command, write
from .revisions import environment_python, listing, load_config, prebuild, resolve

VARIANTS = {
    # Queuing of root tasks on the scheduler (on by default since 2022.11): inf turns it off.
    "queuing": ("DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION", "1.1", "inf"),
    "work-stealing": ("DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING", "True", "False"),
    # How long the scheduler waits before it rebalances with stealing.
    "stealing-interval": ("DASK_DISTRIBUTED__SCHEDULER__WORK_STEALING_INTERVAL", "1s", "100ms"),
}
WORK_DIR = REPO_ROOT / ".asv" / "ab"


@command("ab")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.ab", description=__doc__.split("\n\n")[0],
                                     epilog="variants: " + ", ".join(f"{k} ({v[0]}: {v[1]} vs {v[2]})"
                                                                     for k, v in VARIANTS.items()))
    parser.add_argument("rev")
    parser.add_argument("--variant", default="queuing", choices=sorted(VARIANTS))
    parser.add_argument("--bench", "-b", action="append", default=[], help="benchmark regex (default: the quick selection)")
    paired.add_plan_options(parser)
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    parser.add_argument("--workdir", type=Path, default=WORK_DIR)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    variable, a, b = VARIANTS[args.variant]
    names = (f"{variable}={a}", f"{variable}={b}")
    paired.check_plan(args)
    commit = resolve(load_config(args.config), args.rev)
    prebuild(args.config, commit)
    python = environment_python(args.config)
    bench = "|".join(f"(?:{regex})" for regex in args.bench) or policy.selection_regex("quick")
    logs = args.workdir / "paired-logs"
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    measured, failed = paired.measure_all((python, python), listing(python, bench)["units"], args.blocks, 0.5,
                                          logs, args.segments, sequential=args.sequential, factor=args.factor,
                                          envs=({variable: a}, {variable: b}))
    decisions = paired.judge(measured, failed, args.factor)
    text = paired.render(decisions, measured, f"{args.rev}, {names[0]}", f"{args.rev}, {names[1]}", args.factor,
                         args.blocks, 0.5, took={"measured": time.monotonic() - started})
    print(text)
    markdown = args.markdown or OUT_DIR / f"ab-{args.variant}.md"
    write(markdown, text)
    markdown.with_suffix(".json").write_text(json.dumps(paired.stored(
        decisions, measured, failed, [commit, commit], *names, args.factor, 0.5), indent=1) + "\n")
    print(f"(written to {markdown} and {markdown.with_suffix('.json')})")
    return paired.verdict_status(decisions, logs)


if __name__ == "__main__":
    sys.exit(main())
