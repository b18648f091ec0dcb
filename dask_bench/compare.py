"""`make compare`: measure two revisions of distributed with asv and give a verdict.

    python -m dask_bench.compare BASE HEAD [--factor 1.10] [--bench REGEX] [--markdown compare.md]

Both revisions are measured with `asv run --skip-existing-successful` (stored results are reused),
then compared with asv's own rules: a change counts when asv's significance test says the two
measurements differ and the ratio is beyond the factor. Unlike `asv compare`, the direction comes
from the benchmark's unit: for rates and speedups (HIGHER_IS_BETTER_UNITS) a fall is the
regression. Exit status: 1 if anything regressed (or started failing), else 0; 2 on bad input.
The table is printed and written as Markdown (GitHub tables) for a CI job to post.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import tabulate
from asv.benchmarks import Benchmarks
from asv.commands.compare import _is_result_better, _isna, unroll_result
from asv.config import Config
from asv.machine import Machine
from asv.results import iter_results_for_machine_and_hash
from asv.util import UserError, human_value
from asv_runner.statistics import get_err

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = REPO_ROOT / "asv.conf.json"
# Units whose larger values are better. Every other benchmark is better when smaller.
HIGHER_IS_BETTER_UNITS = {"tasks/s", "x faster"}
# Shown in the table but never counted in the verdict: the baselines measure numpy, plain Python and
# concurrent.futures, not distributed; the search's distance to the minimum is its quality, which
# varies with the order tasks complete in (about 20% between identical runs, see make noise).
NOT_COUNTED = (r"^baselines\.", r"\.track_distance_to_minimum\b")

MARKS = {"regression": "+", "improvement": "-", "failing": "!", "fixed": "*", "not comparable": "x"}


class CompareError(Exception):
    pass


@dataclass
class Row:
    benchmark: str
    env: str
    before: float | None
    after: float | None
    err_before: float | None
    err_after: float | None
    unit: str
    higher_is_better: bool
    verdict: str  # regression, improvement, failing, fixed, not comparable, same, insignificant, n/a

    @property
    def counted(self) -> bool:
        return not any(re.search(pattern, self.benchmark) for pattern in NOT_COUNTED)

    @property
    def flags_regression(self) -> bool:
        return self.counted and self.verdict in ("regression", "failing")

    @property
    def ratio(self) -> float:
        if _isna(self.before) or _isna(self.after) or not self.before:
            return math.nan
        return self.after / self.before


def load_config(path: Path) -> Config:
    try:
        return Config.load(str(path))
    except UserError as exc:
        raise CompareError(str(exc)) from None


def resolve(conf: Config, rev: str) -> str:
    """The full hash of a revision (tag, branch, hash) of the repository asv measures."""
    proc = subprocess.run(["git", "-C", conf.repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tags = subprocess.run(["git", "-C", conf.repo, "tag"], capture_output=True, text=True).stdout.split()
        hint = f"; its tags: {' '.join(tags[-8:])}" if tags else ""
        raise CompareError(f"no revision {rev!r} in {conf.repo}{hint} (make distributed-repo makes it)")
    return proc.stdout.strip()


def measure(config: Path, commit: str, bench: list[str], extra_env: dict | None = None) -> None:
    """asv run for one commit, keeping what is already stored."""
    cmd = [sys.executable, "-m", "asv", "run", "--config", str(config), "--skip-existing-successful",
           f"{commit}^!"]
    for regex in bench:
        cmd += ["-b", regex]
    proc = subprocess.run(cmd)
    if proc.returncode not in (0, 2):  # 2: some benchmark failed, which the verdict reports
        raise CompareError(f"asv run for {commit[:8]} failed (exit {proc.returncode})")


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a commit's results in a results directory, optionally only some
    environments (the config A/B compares two environments of one commit)."""
    results_dir: str
    commit: str
    env_names: tuple[str, ...] = ()


def _results(side: Side, machine: str):
    for result in iter_results_for_machine_and_hash(side.results_dir, machine, side.commit):
        if side.env_names and result.env_name not in side.env_names:
            continue
        for key in result.get_all_result_keys():
            params = result.get_result_params(key)
            yield (key, result.env_name, result.benchmark_version.get(key),
                   unroll_result(key, params, result.get_result_value(key, params),
                                 result.get_result_stats(key, params), result.get_result_samples(key, params)))


def verdict(before, after, ss_before, ss_after, factor, higher_is_better) -> str:
    if before is not None and after is None:
        return "failing"
    if before is None and after is not None:
        return "fixed"
    if _isna(before) or _isna(after):
        return "n/a"
    # asv's test: "is a better than b", where better means smaller.
    smaller_after = _is_result_better(after, before, ss_after, ss_before, factor)
    smaller_before = _is_result_better(before, after, ss_before, ss_after, factor)
    if smaller_after:
        return "regression" if higher_is_better else "improvement"
    if smaller_before:
        return "improvement" if higher_is_better else "regression"
    beyond = (_is_result_better(after, before, None, None, factor)
              or _is_result_better(before, after, None, None, factor))
    return "insignificant" if beyond else "same"


def compare(conf: Config, before: Side, after: Side, factor: float, machine: str | None = None,
            only: list[str] | None = None) -> list[Row]:
    """Rows for every benchmark of either side. Environments are matched by name, except when each
    side names exactly one (A/B), which are then compared with each other."""
    machine = machine or Machine.get_unique_machine_name()
    units = {name: info.get("unit") or "" for name, info in Benchmarks.load(conf).items()}
    pair_envs = len(before.env_names) == 1 and len(after.env_names) == 1
    sides = []
    for side in (before, after):
        found = {}
        try:
            for key, env, version, unrolled in _results(side, machine):
                if only and not any(re.search(regex, key) for regex in only):
                    continue
                for name, value, stats, samples in unrolled:
                    found[(name, "" if pair_envs else env)] = (key, value, stats, samples, version)
        except UserError as exc:
            raise CompareError(str(exc)) from None
        if not found:
            raise CompareError(f"no results for {side.commit[:8]} on machine {machine!r} in {side.results_dir}"
                               f"{' for ' + ', '.join(side.env_names) if side.env_names else ''}; "
                               "measure it first (make compare runs asv for both revisions)")
        sides.append(found)
    rows = []
    for name, env in sorted(set(sides[0]) | set(sides[1])):
        key_b, value_b, stats_b, samples_b, version_b = sides[0].get((name, env), (None, math.nan, None, None, None))
        key_a, value_a, stats_a, samples_a, version_a = sides[1].get((name, env), (None, math.nan, None, None, None))
        unit = units.get(key_a or key_b, "")
        higher = unit in HIGHER_IS_BETTER_UNITS
        if version_b and version_a and version_b != version_a:
            result = "not comparable"  # the benchmark's code changed between the two runs
        else:
            result = verdict(value_b, value_a, (stats_b, samples_b), (stats_a, samples_a), factor, higher)
        rows.append(Row(name, env, value_b, value_a, stats_b and get_err(value_b, stats_b),
                        stats_a and get_err(value_a, stats_a), unit, higher, result))
    return rows


def render(rows: list[Row], before: str, after: str, names: dict, factor: float, title: str | None = None) -> str:
    """`before`/`after`: the commits; `names`: labels for them (tags, or the A/B values)."""
    regressions = [r for r in rows if r.flags_regression]
    improvements = [r for r in rows if r.counted and r.verdict in ("improvement", "fixed")]
    envs = {r.env for r in rows}
    head = (f"### {title or 'distributed ' + names.get(before, before[:8]) + ' -> ' + names.get(after, after[:8])} "
            f"(factor {factor:g})\n\n")
    if regressions:
        head += (f"**{len(regressions)} regression(s)**: "
                 + ", ".join(f"`{r.benchmark}`" for r in regressions) + "\n\n")
    else:
        head += "**No regression** beyond the factor with asv's significance test.\n\n"
    head += (f"{len(improvements)} improved, {sum(r.verdict in ('same', 'insignificant') for r in rows)} unchanged. "
             "Change: `+` worse, `-` better, `!` now failing, `*` fixed, `x` not comparable, `~` beyond the "
             "factor but not significant; in parentheses: not counted in the verdict (baselines, which do not "
             "run distributed, and the search's quality). (higher is better) marks rates and speedups.\n\n")
    table = []
    for r in sorted(rows, key=lambda r: (not r.flags_regression, not r.counted, r.benchmark)):
        ratio = "n/a" if math.isnan(r.ratio) else f"{r.ratio:.2f}"
        if r.verdict == "insignificant":
            ratio = "~" + ratio
        label = r.benchmark + (" (higher is better)" if r.higher_is_better else "")
        if len(envs) > 1:
            label += f" [{r.env}]"
        mark = MARKS.get(r.verdict, "")
        if mark and not r.counted:
            mark = f"({mark})"
        table.append([mark, human_value(r.before, r.unit, err=r.err_before),
                      human_value(r.after, r.unit, err=r.err_after), ratio, label])
    headers = ["Change", f"Before [{before[:8]}] <{names.get(before, names.get('before', ''))}>",
               f"After [{after[:8]}] <{names.get(after, names.get('after', ''))}>", "Ratio", "Benchmark (Parameter)"]
    return head + tabulate.tabulate(table, headers=headers, tablefmt="github") + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("base")
    parser.add_argument("head")
    parser.add_argument("--factor", type=float, default=1.10)
    parser.add_argument("--bench", "-b", action="append", default=[], help="benchmark regex (repeatable)")
    parser.add_argument("--config", type=Path, default=DEFAULT_CONFIG)
    parser.add_argument("--machine")
    parser.add_argument("--markdown", type=Path, default=REPO_ROOT / "compare.md")
    parser.add_argument("--no-run", action="store_true", help="compare stored results only")
    args = parser.parse_args(argv)
    try:
        if args.factor <= 1:
            raise CompareError(f"FACTOR={args.factor} must be above 1 (e.g. 1.10: 10% slower)")
        conf = load_config(args.config)
        before, after = resolve(conf, args.base), resolve(conf, args.head)
        if not args.no_run:
            for commit in dict.fromkeys((before, after)):
                measure(args.config, commit, args.bench)
        rows = compare(conf, Side(conf.results_dir, before), Side(conf.results_dir, after), args.factor,
                       args.machine, only=args.bench or None)
    except CompareError as exc:
        print(f"compare: error: {exc}", file=sys.stderr)
        return 2
    text = render(rows, before, after, {before: args.base, after: args.head}, args.factor)
    print(text)
    args.markdown.write_text(text)
    print(f"(written to {args.markdown})")
    return 1 if any(r.flags_regression for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
