"""`make bisect BENCH=<regex> GOOD=<rev> BAD=<rev>`: the first commit that made a benchmark slower
(or, with `--faster` / FASTER=1, the first commit that made it faster: GOOD is then the slower
revision, BAD the faster one, and "bad" below reads "changed").

    python -m dask_bench.host.bisection BENCH GOOD BAD [--factor 1.10] [--max-rounds 4] [--faster]

A binary search over the first-parent commits after GOOD up to BAD, in the repository asv measures
(a real distributed repository: DISTRIBUTED_REPO). At each step the commit in the middle is
measured beside GOOD (interleaved rounds, samples appended, in make compare's working directory,
.asv/compare/, whose HEAD environment it shares) and judged by the
decision rule of `make compare` (dask_bench.host.verdict) on every benchmark BENCH matches: a
regression on any of them makes it bad; when no benchmark is flagged but one is beyond the factor
without being significant, or has too few samples, it is measured again (one more round each side)
until the rule decides or --max-rounds is reached (then it counts as good, and says so). A sample
that times out or fails counts as slow (bad). A commit that does not build is skipped, said so,
and its neighbours are tried. Prints the evidence of every step and the first bad commit.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from . import asvapi, verdict
from .asv_config import MAIN_CONFIG
from .cli import ToolError, check_factor, guarded_main
from .compare import DEFAULT_FACTOR, Side, compare, measure_round
from .revisions import WORK_DIR, load_config, prebuild, resolve, side_config
from .results import ResultsError


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
    def __init__(self, config: Path, bench: str, good: str, factor: float, max_rounds: int, workdir: Path, log=print,
                 faster: bool = False):
        self.workdir = workdir
        # GOOD in the configuration's asv environment, the commit being judged in HEAD's of make
        # compare (as make compare's sides): both stay installed while they are measured, so no
        # measurement follows pip replacing the package under test (a candidate is installed once,
        # when it is built), and a bisection after a comparison builds no environment again. Its rounds
        # go to workdir/bisect, apart from make compare's: `./compare --no-run` judges a comparison's
        # own rounds, never a bisection's
        self.good_config = side_config("bisect", config, workdir)
        self.candidate_config = side_config("bisect", config, workdir, "head")
        self.conf = load_config(self.good_config)
        self.bench, self.good, self.factor, self.max_rounds, self.log = bench, good, factor, max_rounds, log
        self.rounds: dict[str, int] = {}
        # the verdict that makes a commit "bad": slower, or (bisecting an improvement) faster
        self.changed = "improvement" if faster else "regression"
        self.word = "faster" if faster else "slower"

    def config_of(self, commit: str) -> Path:
        return self.good_config if commit == self.good else self.candidate_config

    def measure(self, commit: str) -> None:
        append = self.rounds.get(commit, 0) > 0
        measure_round([Side(commit[:8], self.config_of(commit), commit)], [self.bench], append=append)
        self.rounds[commit] = self.rounds.get(commit, 0) + 1

    def judge(self, commit: str) -> str:
        """'bad', 'good' or 'skip' (does not build), measuring until the rule decides."""
        try:
            prebuild(self.config_of(commit), commit)  # never measure a commit right after building it
        except ToolError:
            pass
        if not built(load_config(self.candidate_config).env_dir, commit):
            self.log(f"  {subject(self.conf.repo, commit)}: does not build: skipped")
            return "skip"
        while True:
            # GOOD beside every step, the order alternating (ABBA): drift falls on both sides
            pair = [self.good, commit] if self.rounds.get(commit, 0) % 2 == 0 else [commit, self.good]
            for one in pair:
                self.measure(one)
            rows = compare(Side("GOOD", self.config_of(self.good), self.good),
                           Side("this", self.config_of(commit), commit), self.factor, only=[self.bench])
            for r in rows:
                if r.counted or r.verdict in ("failing",):
                    self.log(f"    {r.benchmark}: {r.verdict} {verdict.format_ratio(r.decision)}"
                             + ("" if r.decision.p != r.decision.p else f" p={r.decision.p:.2g}"))
            if any(r.counted and r.verdict in (self.changed, "failing") for r in rows):
                return "bad"
            undecided = [r for r in rows if r.counted and r.verdict in ("insignificant", "too few samples",
                                                                          "too few rounds")]
            if not undecided:
                return "good"
            if self.rounds[commit] >= self.max_rounds:
                self.log(f"  still undecided after {self.max_rounds} rounds: counted as good")
                return "good"
            self.log(f"  undecided ({', '.join(r.benchmark for r in undecided)}): one more round")

    def run(self, bad: str) -> tuple[str, list[str]]:
        repo = self.conf.repo
        candidates = commits_between(repo, self.good, bad)
        self.log(f"bisect: {len(candidates)} commit(s) after GOOD {subject(repo, self.good)}")
        prebuild(self.config_of(self.good), self.good)
        self.log(f"BAD {subject(repo, bad)}:")
        if self.judge(bad) != "bad":
            raise BisectError(f"BAD ({subject(repo, bad)}) is not {self.word} than GOOD on {self.bench} by the rule "
                              f"(factor {self.factor:g}): nothing to bisect")
        lo, hi = -1, len(candidates) - 1  # candidates[lo] good (-1: GOOD itself), candidates[hi] bad
        skipped: list[str] = []
        while hi - lo > 1:
            untried = [i for i in range(lo + 1, hi) if candidates[i] not in skipped]
            if not untried:
                break
            mid = min(untried, key=lambda i: abs(i - (lo + hi) / 2))
            self.log(f"step: {subject(repo, candidates[mid])} ({hi - lo - 1} commit(s) left):")
            outcome = self.judge(candidates[mid])
            self.log(f"  -> {outcome}")
            if outcome == "skip":
                skipped.append(candidates[mid])
            elif outcome == "bad":
                hi = mid
            else:
                lo = mid
        maybe = [c for c in candidates[lo + 1:hi] if c in skipped]
        return candidates[hi], maybe


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.bisection", description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", help="benchmark regex (asv -b)")
    parser.add_argument("good")
    parser.add_argument("bad")
    parser.add_argument("--factor", type=float, default=DEFAULT_FACTOR)
    parser.add_argument("--max-rounds", type=int, default=4)
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    parser.add_argument("--workdir", type=Path, default=WORK_DIR)
    parser.add_argument("--faster", action="store_true",
                        help="find the first commit that made BENCH faster (GOOD: the slower revision)")
    args = parser.parse_args(argv)
    try:
        check_factor(args.factor)
        if args.max_rounds < 1:
            raise BisectError(f"--max-rounds {args.max_rounds}: at least 1")
        conf = load_config(args.config)
        good, bad = resolve(conf, args.good), resolve(conf, args.bad)
        bisection = Bisection(args.config, args.bench, good, args.factor, args.max_rounds, args.workdir,
                              faster=args.faster)
        first, maybe = bisection.run(bad)
    except ToolError as exc:
        print(f"bisect: error: {exc}", file=sys.stderr)
        return 2
    repo = conf.repo
    message = subprocess.run(["git", "-C", repo, "log", "-1", "--format=%H%n%an <%ae>%n%ad%n%n%B", first],
                             capture_output=True, text=True).stdout.strip()
    print(f"\nfirst {'faster' if args.faster else 'bad'} commit: {first}\n{message}")
    if maybe:
        print("\nskipped (did not build), so the first bad commit may also be: "
              + ", ".join(subject(repo, c) for c in maybe))
    return 0


if __name__ == "__main__":
    sys.exit(guarded_main(main=main, prog="bisect"))
