"""`make bisect BENCH=<regex> GOOD=<rev> BAD=<rev>`: the first commit that made a benchmark slower
(or, with `--faster` / FASTER=1, the first that made it faster: GOOD is then the slower revision).

    python -m dask_bench.host.bisection BENCH GOOD BAD [--factor F] [--blocks N] [--segments N] [--sequential | --fixed] [--faster]

A binary search over the first-parent commits after GOOD up to BAD, in the repository asv measures
(a real distributed repository: DISTRIBUTED_REPO). Each step is `./compare GOOD <commit>`: the
commit in the middle measured beside GOOD, at once, its blocks alternating (dask_bench.host.paired),
in make compare's environments (GOOD in the configuration's, the candidate in HEAD's), and judged by
the paired verdict on every benchmark BENCH matches: slower (or failing) on one makes it bad;
inconclusive counts as good and is said so. A commit that does not build is skipped, said so, and
its neighbours are tried. Prints the evidence of every step and the first bad commit.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from . import paired, verdict
from .asv_config import MAIN_CONFIG
from .cli import ToolError, command
from .revisions import WORK_DIR, environment_python, listing, load_config, prebuild, resolve, side_config


class BisectError(ToolError):
    pass


def commits_between(repo: str, good: str, bad: str) -> list[str]:
    proc = subprocess.run(["git", "-C", repo, "rev-list", "--reverse", "--first-parent", f"{good}..{bad}"],
                          capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.split():
        raise BisectError(f"no commits after GOOD up to BAD in {repo}: is GOOD an ancestor of BAD?")
    return proc.stdout.split()


def subject(repo: str, commit: str) -> str:
    return subprocess.run(["git", "-C", repo, "log", "-1", "--format=%h %s", commit], capture_output=True,
                          text=True).stdout.strip()


def built(env_dir: Path, commit: str) -> bool:
    """Whether asv could build `commit` (its wheel is in an environment's build cache)."""
    return any(Path(env_dir).glob(f"*/asv-build-cache/{commit}/*.whl"))


class Bisection:
    def __init__(self, config: Path, bench: str, good: str, workdir: Path, factor: float | None = None,
                 blocks: int | None = None, segments: int | None = None, faster: bool = False,
                 sequential: bool | None = None, log=print):
        self.configs = (config, side_config("results", config, workdir, "head"))  # ./compare's environments
        self.repo = load_config(config).repo
        self.bench, self.good, self.factor, self.blocks, self.segments = bench, good, factor, blocks, segments
        self.sequential = sequential
        self.logs, self.log = workdir / "paired-logs", log
        self.changed = verdict.FASTER if faster else verdict.SLOWER  # the verdict that makes a commit "bad"

    def judge(self, commit: str) -> str:
        """'bad', 'good' or 'skip' (does not build): `commit` measured beside GOOD, at once."""
        try:
            prebuild(self.configs[1], commit)
        except ToolError:
            pass
        if not built(load_config(self.configs[1]).env_dir, commit):
            self.log(f"  {subject(self.repo, commit)}: does not build: skipped")
            return "skip"
        pythons = tuple(environment_python(c) for c in self.configs)
        self.logs.mkdir(parents=True, exist_ok=True)
        measured, failed = paired.measure_all(pythons, listing(pythons[1], self.bench)["units"], self.blocks, 0.5,
                                              self.logs, self.segments, sequential=self.sequential, factor=self.factor)
        decisions = {label: d for label, d in paired.judge(measured, failed, self.factor).items()
                     if paired.counts(label)}
        for label, d in decisions.items():
            self.log(f"    {label}: {verdict.verdict_text(d)} {verdict.format_ratio(d)}")
        if any(d.verdict in (self.changed, "failing") for d in decisions.values()):
            return "bad"
        if any(d.verdict == verdict.INCONCLUSIVE for d in decisions.values()):
            self.log("  inconclusive: counted as good (measure more with --blocks)")
        return "good"

    def run(self, bad: str) -> tuple[str, list[str]]:
        candidates = commits_between(self.repo, self.good, bad)
        self.log(f"bisect: {len(candidates)} commit(s) after GOOD {subject(self.repo, self.good)}")
        prebuild(self.configs[0], self.good)
        self.log(f"BAD {subject(self.repo, bad)}:")
        if self.judge(bad) != "bad":
            raise BisectError(f"BAD ({subject(self.repo, bad)}) is not {self.changed} than GOOD on {self.bench} by "
                              "the paired verdict: nothing to bisect")
        lo, hi = -1, len(candidates) - 1  # candidates[lo] good (-1: GOOD itself), candidates[hi] bad
        skipped: list[str] = []
        while hi - lo > 1:
            untried = [i for i in range(lo + 1, hi) if candidates[i] not in skipped]
            if not untried:
                break
            mid = min(untried, key=lambda i: abs(i - (lo + hi) / 2))
            self.log(f"step: {subject(self.repo, candidates[mid])} ({hi - lo - 1} commit(s) left):")
            outcome = self.judge(candidates[mid])
            self.log(f"  -> {outcome}")
            if outcome == "skip":
                skipped.append(candidates[mid])
            elif outcome == "bad":
                hi = mid
            else:
                lo = mid
        return candidates[hi], [c for c in candidates[lo + 1:hi] if c in skipped]


@command("bisect")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.bisection", description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", help="benchmark regex (asv -b)")
    parser.add_argument("good")
    parser.add_argument("bad")
    paired.add_plan_options(parser, each=" a step")
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    parser.add_argument("--workdir", type=Path, default=WORK_DIR)
    parser.add_argument("--faster", action="store_true",
                        help="find the first commit that made BENCH faster (GOOD: the slower revision)")
    args = parser.parse_args(argv)
    paired.check_plan(args)
    conf = load_config(args.config)
    good, bad = resolve(conf, args.good), resolve(conf, args.bad)
    first, maybe = Bisection(args.config, args.bench, good, args.workdir, args.factor, args.blocks,
                             args.segments, args.faster, args.sequential).run(bad)
    message = subprocess.run(["git", "-C", conf.repo, "log", "-1", "--format=%H%n%an <%ae>%n%ad%n%n%B", first],
                             capture_output=True, text=True).stdout.strip()
    print(f"\nfirst {'faster' if args.faster else 'bad'} commit: {first}\n{message}")
    if maybe:
        print("\nskipped (did not build), so the first bad commit may also be: "
              + ", ".join(subject(conf.repo, c) for c in maybe))
    return 0


if __name__ == "__main__":
    sys.exit(main())
