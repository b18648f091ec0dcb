"""`make history`: measure every release of the release history that has no valid stored result.

    python -m dask_bench.history [--releases "2026.7.1 2026.8.0"] [--latest N] [--bench REGEX]

Releases are measured oldest first, one `asv run` each (through dask_bench.asv_run: Ctrl-C stops it
cleanly), with `--skip-existing-successful`: a benchmark whose stored result succeeded with the
benchmark's current version is kept, anything else (missing, failed, or measured by older code) is
measured. Each release's results are saved when it is done, so an interrupted history resumes
where it stopped. Progress: release k of n, elapsed, estimate left.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path

from . import asv_run as asv_runner, asvapi
from .asv_config import MAIN_CONFIG
from .results import ResultsError, runs


class HistoryError(Exception):
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


def current_versions() -> dict[str, str]:
    """Each benchmark's asv version as the suite's code now defines it (benchmarks.common.version_of)."""
    from .profile_run import benchmarks

    return {label.split("(")[0]: cls.version for label, (cls, _, _) in benchmarks().items()}


def missing(results_dir: Path, commit: str, machine: str, selection: list[str]) -> bool:
    """True unless every selected benchmark known to discovery has a successful result of its
    current version."""
    # the versions of the code as it is now (benchmarks.json holds those of the last asv run's discovery)
    info = {name: {"version": version} for name, version in current_versions().items()
            if any(re.search(regex, name) for regex in selection)}
    if not info:
        return True
    stored = {}
    for run in runs(results_dir, machine):
        if run.commit == commit and not run.env_vars:
            for (name, _), m in run.measurements.items():
                stored.setdefault(name, []).append(m.ok and m.version == info.get(name, {}).get("version"))
    return any(name not in stored or not all(stored[name]) for name in info)


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{seconds:02d}s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.history", description=__doc__.split("\n\n")[0])
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
        selection = args.bench or [asv_runner.DEFAULT]
        todo = [(t, c) for t, c in releases if missing(results_dir, c, machine, selection)]
        print(f"history: {len(releases)} release(s), {len(releases) - len(todo)} already measured, "
              f"{len(todo)} to measure: {' '.join(t for t, _ in todo) or 'none'}", flush=True)
        started, durations = time.monotonic(), []
        for k, (tag, commit) in enumerate(todo, 1):
            left = f", about {clock(sum(durations) / len(durations) * (len(todo) - k + 1))} left" if durations else ""
            print(f"history: release {k} of {len(todo)}: {tag} ({commit[:8]}); elapsed "
                  f"{clock(time.monotonic() - started)}{left}", flush=True)
            one = time.monotonic()
            asv_args = ["run", "--config", str(args.config), "--record-samples", "--skip-existing-successful",
                        f"{commit}^!"]
            for regex in selection:
                asv_args += ["-b", regex]
            code = asv_runner.run(asv_args, results_dir)
            if code not in (0, 2):
                raise HistoryError(f"asv run of {tag} failed (exit {code}); run make history again to resume")
            durations.append(time.monotonic() - one)
        print(f"history: done in {clock(time.monotonic() - started)}", flush=True)
    except (HistoryError, ResultsError, asvapi.AsvError) as exc:
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
