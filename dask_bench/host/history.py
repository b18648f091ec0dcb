"""`make history`: measure every release of the release history that has no valid stored result.

    python -m dask_bench.host.history [--releases "2026.7.1 2026.8.0"] [--latest N] [--bench REGEX]

Releases are measured oldest first, each in `--rounds` rounds (default 2): one `asv run` per round
(through dask_bench.host.asv_run: Ctrl-C stops it cleanly), one process and one cluster per benchmark,
samples appended, and the samples each round added recorded beside the results (the verdict and
the change-point detector judge clusters, dask_bench.host.verdict). A benchmark with as many valid
recorded rounds of its current version is kept; one that failed, was measured by older code or has
rounds not recorded is measured afresh; one with fewer rounds gets the rounds it lacks. Every
round is saved when it is done, so an interrupted history resumes where it stopped. Progress:
release k of n, elapsed, estimate left.
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
from .results import ResultsError, commit_files, forget, record_round, runs, sample_counts


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
    """Each benchmark label's asv version as the suite's code now defines it (benchmarks.common.version_of)."""
    from ..drive import benchmarks

    return {label: cls.version for label, (cls, _, _) in benchmarks().items()}


def selected_versions(selection: list[str]) -> dict[str, str]:
    """benchmark name -> version, for every benchmark whose name or one of whose labels (name with
    parameters, as asv -b matches) a regex of `selection` matches."""
    return {label.split("(")[0]: version for label, version in current_versions().items()
            if any(re.search(regex, label) or re.search(regex, label.split("(")[0]) for regex in selection)}


def rounds_done(results_dir: Path, commit: str, machine: str, versions: dict[str, str],
                rounds: int = 2) -> dict[str, int]:
    """For each selected benchmark: how many recorded rounds all its parameters have, successful and
    of its current version; 0 for anything else (missing, failed, older code, rounds not recorded).
    A track_ value has no samples to split (asv keeps the last round's): valid counts as `rounds`."""
    done: dict[str, list[int]] = {}
    for run in runs(results_dir, machine):
        if run.commit == commit and not run.env_vars:
            for (name, _), m in run.measurements.items():
                if name in versions:
                    good = m.ok and m.version == versions[name]
                    done.setdefault(name, []).append(0 if not good else m.recorded_rounds if m.samples else rounds)
    return {name: min(done.get(name, [0])) for name in versions}


def measure_release(config: Path, results_dir: Path, machine: str, commit: str, done: dict[str, int],
                    rounds: int) -> None:
    """The rounds each benchmark of one release lacks; benchmarks measured before start afresh."""
    stale = {name for name, n in done.items() if n == 0}
    for path in commit_files(results_dir, machine, commit):
        forget(path, stale)
    for _ in range(rounds - min(done.values())):
        lacking = sorted(name for name, n in done.items() if n < rounds)
        before = {path: sample_counts(path) for path in commit_files(results_dir, machine, commit)}
        asv_args = ["run", "--config", str(config), "--record-samples", "--append-samples", "-a", "rounds=1",
                    f"{commit}^!"]
        for name in lacking:  # exactly these benchmarks, every parameter: asv matches -b to the label
            asv_args += ["-b", f"^{re.escape(name)}(\\(|$)"]
        code = asv_runner.run(asv_args, results_dir)
        if code not in (0, 2):
            raise HistoryError(f"asv run of {commit[:8]} failed (exit {code}); run make history again to resume")
        for path in commit_files(results_dir, machine, commit):
            record_round(path, before.get(path, {}))
        done = {name: n + (name in lacking) for name, n in done.items()}


def clock(seconds: float) -> str:
    minutes, seconds = divmod(int(seconds), 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m{seconds:02d}s"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.history", description=__doc__.split("\n\n")[0])
    parser.add_argument("--releases", default="", help='only these releases, e.g. "2026.7.1 2026.8.0"')
    parser.add_argument("--latest", type=int, default=0, help="only the newest N releases (default: all)")
    parser.add_argument("--bench", "-b", action="append", default=[])
    parser.add_argument("--rounds", type=int, default=2, help="rounds (clusters) per release (default 2)")
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    args = parser.parse_args(argv)
    try:
        if args.rounds < 1:
            raise HistoryError(f"ROUNDS={args.rounds}: give at least 1 round per release")
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
        if not versions:
            raise HistoryError(f"no benchmark matches {' '.join(args.bench)}; see: asv check or benchmarks/")
        done = {c: rounds_done(results_dir, c, machine, versions, args.rounds) for _, c in releases}
        todo = [(t, c) for t, c in releases if min(done[c].values()) < args.rounds]
        print(f"history: {len(releases)} release(s), {len(releases) - len(todo)} already measured, "
              f"{len(todo)} to measure: {' '.join(t for t, _ in todo) or 'none'}", flush=True)
        started, durations = time.monotonic(), []
        for k, (tag, commit) in enumerate(todo, 1):
            left = f", about {clock(sum(durations) / len(durations) * (len(todo) - k + 1))} left" if durations else ""
            print(f"history: release {k} of {len(todo)}: {tag} ({commit[:8]}); elapsed "
                  f"{clock(time.monotonic() - started)}{left}", flush=True)
            one = time.monotonic()
            measure_release(args.config, results_dir, machine, commit, done[commit], args.rounds)
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
