"""`make history ASV_RUNS=1`: asv runs of every release of the release history that has no valid
stored result, for the absolute timings of asv's pages (the history's verdicts are the paired chain,
dask_bench.host.chain).

    python -m dask_bench.host.history [--releases "2026.7.1 2026.8.0"] [--latest N] [--bench REGEX]

Releases are measured oldest first, one `asv run` each (through dask_bench.host.asv_run: Ctrl-C
stops it cleanly) of the benchmarks that lack a successful result of their current version (asv
version, as the suite lists them); the others are kept. Each release is saved when it is done, so
an interrupted history resumes where it stopped. Progress: release k of n, elapsed, estimate left.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from .. import policy
from . import asv_run as asv_runner, asvapi
from .asv_config import MAIN_CONFIG
from .cli import ToolError
from .results import ResultsError, runs
from .revisions import listing


class HistoryError(ToolError):
    pass


def release_commits(repo: str) -> list[tuple[str, str]]:
    """(tag, commit) of every tagged commit on main, oldest first."""
    proc = subprocess.run(["git", "-C", repo, "rev-list", "--reverse", "--first-parent", "main"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise HistoryError(f"{repo} has no branch main ({proc.stderr.strip()}); make it with: make distributed-repo")
    found = []
    for commit in proc.stdout.split():
        tags = subprocess.run(["git", "-C", repo, "tag", "--points-at", commit], capture_output=True,
                              text=True).stdout.split()
        if tags:
            found.append((tags[0], commit))
    return found


def selected_versions(selection: list[str]) -> dict[str, str]:
    """benchmark name -> version as the suite's code defines it now (listed by the suite itself, in
    this Python), for every benchmark a regex of `selection` matches (by label, as asv -b does)."""
    versions = listing(Path(sys.executable), "|".join(f"(?:{regex})" for regex in selection))["versions"]
    return {label.split("(")[0]: version for label, version in versions.items()}


def lacking(results_dir: Path, commit: str, machine: str, versions: dict[str, str]) -> list[str]:
    """The selected benchmarks without a successful result of their current version for `commit`
    (any parameter missing, failed or measured by older code)."""
    good: dict[str, bool] = {}
    for run in runs(results_dir, machine):
        if run.commit == commit and not run.env_vars:
            for (name, _), m in run.measurements.items():
                if name in versions:
                    good[name] = good.get(name, True) and m.ok and m.version == versions[name]
    return sorted(name for name in versions if not good.get(name))


def measure_release(config: Path, results_dir: Path, commit: str, names: list[str]) -> None:
    args = ["run", "--config", str(config), "--record-samples", f"{commit}^!"]
    for name in names:  # exactly these benchmarks, every parameter: asv matches -b to the label
        args += ["-b", f"^{re.escape(name)}(\\(|$)"]
    code = asv_runner.run(args, results_dir)
    if code not in (0, 2):
        raise HistoryError(f"asv run of {commit[:8]} failed (exit {code}); run make history again to resume")


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{seconds:02d}s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.history", description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", default="", help='only these releases, e.g. "2026.7.1 2026.8.0"')
    parser.add_argument("--latest", type=int, default=0, help="only the newest N releases (default: all)")
    parser.add_argument("--bench", "-b", action="append", default=[])
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    args = parser.parse_args(argv)
    try:
        if args.latest < 0:
            raise HistoryError(f"LATEST={args.latest}: give a number of releases, or 0 for all")
        conf = asvapi.config(args.config)
        machine = asvapi.host_machine()
        releases = release_commits(conf.repo)
        if args.releases:
            wanted = args.releases.split()
            unknown = [v for v in wanted if v not in dict(releases)]
            if unknown:
                raise HistoryError(f"no release {', '.join(unknown)} in {conf.repo} (it has "
                                   f"{' '.join(t for t, _ in releases)}); add it with DISTRIBUTED_RELEASES=… "
                                   "make distributed-repo")
            releases = [(t, c) for t, c in releases if t in wanted]
        if args.latest:
            releases = releases[-args.latest:]
        results_dir = Path(conf.results_dir)
        versions = selected_versions(args.bench or [policy.selection_regex("default")])
        todo = [(t, c, names) for t, c in releases if (names := lacking(results_dir, c, machine, versions))]
        print(f"history: {len(releases)} release(s), {len(releases) - len(todo)} already measured, "
              f"{len(todo)} to measure: {' '.join(t for t, _, _ in todo) or 'none'}", flush=True)
        started, durations = time.monotonic(), []
        for k, (tag, commit, names) in enumerate(todo, 1):
            left = f", about {clock(sum(durations) / len(durations) * (len(todo) - k + 1))} left" if durations else ""
            print(f"history: release {k} of {len(todo)}: {tag} ({commit[:8]}); elapsed "
                  f"{clock(time.monotonic() - started)}{left}", flush=True)
            one = time.monotonic()
            measure_release(args.config, results_dir, commit, names)
            durations.append(time.monotonic() - one)
        print(f"history: done in {clock(time.monotonic() - started)}", flush=True)
    except (ToolError, ResultsError, asvapi.AsvError) as exc:
        print(f"history: error: {exc}", file=sys.stderr)
        return 2
    except asv_runner.Stopped as stop:
        print(f"history: stopped ({stop}); what was measured is saved: run make history again to resume",
              file=sys.stderr)
        return 128 + stop.signum
    return 0


if __name__ == "__main__":
    with asv_runner.signals_stop():
        try:
            code = main()
        except asv_runner.Stopped as stop:
            code = 128 + stop.signum
    sys.exit(code)
