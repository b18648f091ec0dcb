"""`./compare BASE HEAD` (and `make compare`): the one command that compares two revisions.

    ./compare BASE HEAD [-b REGEX] [--factor F] [--blocks N] [--profile]    the paired verdict (default)
    ./compare BASE HEAD --interleaved [--rounds 2] [--factor 1.10]         asv rounds, interleaved

By default both revisions run at once and their blocks alternate (dask_bench.host.paired): the
calibrated verdict, exit 0 same or faster, 1 slower, 3 inconclusive, 2 error. A/A: BASE = HEAD.

--interleaved: the asv measurement this module implements, which `make history` and `make bisect`
build on. Both sides are measured fresh, in ROUNDS rounds that alternate the order (BASE, HEAD, HEAD, BASE,
…), each round a separate `asv run` of one round per benchmark whose samples are appended (and
how many each round added recorded: the verdict judges rounds, one cluster each): the drift of a
shared, noisy machine falls on both sides alike. BASE and HEAD may be the same revision (an A/A
run). Each side has its own results directory under .asv/compare/, so a comparison never
overwrites the results history in results/. The verdict per benchmark is dask_bench.host.verdict's
(round medians against the calibrated cluster noise, Mann-Whitney U on the samples, minimum effect
size FACTOR).

Its exit status: 0 no regression, 1 a counted benchmark regressed (or started failing), 2 an error.
The table is printed and written as Markdown for a CI job to post.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import tabulate

from .. import policy
from . import asv_run as asv_runner, asvapi, verdict
from .asv_config import MAIN_CONFIG, OUT_DIR, derive
from . import paired, profile
from .cli import ToolError, check_factor, guarded_main
from .revisions import WORK_DIR, load_config, prebuild, resolve, side_config
from .verdict import MARKS
from .results import (Measurement, ResultsError, benchmark_info, commit_files, label, record_round, require_machine,
                      rounds_path, runs_of, sample_counts)

DEFAULT_FACTOR = 1.10
DEFAULT_ROUNDS = 2


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a commit's results in an asv configuration's results directory,
    optionally only some of its environments (the config A/B compares two environments)."""
    name: str
    config: Path
    commit: str
    env_names: tuple[str, ...] = ()
    machine: str | None = None  # whose results (default: this host's)

    @property
    def results_dir(self) -> Path:
        return Path(asvapi.config(self.config).results_dir)


@dataclass
class Row:
    benchmark: str
    env: str
    before: Measurement | None
    after: Measurement | None
    unit: str
    decision: verdict.Decision
    verdict: str  # decision.verdict, or failing, fixed, not comparable, n/a

    @property
    def counted(self) -> bool:
        return (policy.counted(self.benchmark)
                and self.verdict not in ("no statistics", "n/a"))

    @property
    def flags_regression(self) -> bool:
        return self.counted and self.verdict in ("regression", "failing")

    @property
    def ratio(self) -> float:
        return self.decision.ratio


# -- measuring -----------------------------------------------------------------------------------

def asv_run(config: Path, commit: str, bench: list[str], append: bool, extra: list[str] = ()) -> None:
    """One round of every (selected) benchmark of one commit, samples recorded (and appended);
    Ctrl-C or SIGTERM stops it cleanly (asv_run.Stopped)."""
    args = ["run", "--config", str(config), "--record-samples", "-a", "rounds=1",
            *(["--append-samples"] if append else []), *extra, f"{commit}^!"]
    for regex in bench or [policy.selection_regex("default")]:
        args += ["-b", regex]
    code = asv_runner.run(args, Path(asvapi.config(config).results_dir))
    if code not in (0, 2):  # 2: some benchmark failed, which the verdict reports
        raise ToolError(f"asv run of {commit[:8]} failed (exit {code})")


def measure_interleaved(sides: list[Side], bench: list[str], rounds: int, log=print) -> None:
    """`rounds` rounds over the sides, the order reversed every other round (ABBA…); sides that
    share a configuration and commit (the A/B environments) are measured by one asv run. Every
    commit is built first, so no side is measured right after a build."""
    for side in sides:  # fresh results for every side: nothing is reused from an earlier comparison
        for old in side_files(side):
            rounds_path(old).unlink(missing_ok=True)
            old.unlink()
    for config, commit in dict.fromkeys((s.config, s.commit) for s in sides):
        log(f"[build] {commit[:8]}", flush=True)
        prebuild(config, commit)
    for r in range(rounds):
        order = sides if r % 2 == 0 else sides[::-1]
        for config, commit in dict.fromkeys((s.config, s.commit) for s in order):
            names = " + ".join(s.name for s in order if (s.config, s.commit) == (config, commit))
            log(f"[round {r + 1}/{rounds}] {names}", flush=True)
            measure_round([s for s in order if (s.config, s.commit) == (config, commit)], bench, append=r > 0)


def side_files(side: Side) -> list[Path]:
    """The results files of a side's commit (one per environment)."""
    return commit_files(side.results_dir, side.machine or asvapi.host_machine(), side.commit)


def measure_round(sides: list[Side], bench: list[str], append: bool) -> None:
    """One round (one asv run: one cluster per benchmark) of sides sharing a configuration and
    commit, and how many samples it added to each benchmark (the verdict judges rounds)."""
    before = {path: sample_counts(path) for path in side_files(sides[0])}
    asv_run(sides[0].config, sides[0].commit, bench, append=append)
    for path in side_files(sides[0]):
        record_round(path, before.get(path, {}))


# -- comparing -----------------------------------------------------------------------------------

def measurements_of(side: Side, pair_envs: bool, only) -> dict:
    """(label, env name or '' when pairing environments, benchmark name) -> Measurement of a side."""
    found = {}
    try:
        side_runs = runs_of(side.results_dir, side.machine, side.commit, side.env_names)
    except ResultsError as exc:
        raise ToolError(str(exc)) from None
    for run in side_runs:
        for (name, params), m in run.measurements.items():
            if only and not any(re.search(regex, label(name, params)) for regex in only):  # as asv -b selects
                continue
            found[(label(name, params), "" if pair_envs else run.env_name, name)] = m
    if not found:
        raise ToolError(f"no results for {side.name} ({side.commit[:8]}) on machine "
                           f"{side.machine or asvapi.host_machine()!r} in {side.results_dir}"
                           f"{' for ' + ', '.join(side.env_names) if side.env_names else ''}")
    return found


def compare(before: Side, after: Side, factor: float, only: list[str] | None = None,
            noise: dict | None = None) -> list[Row]:
    """Rows for every benchmark of either side. Environments are matched by name, except when each
    side names exactly one (A/B), which are then compared with each other. `noise`: the cluster
    noise per benchmark (default: this machine's calibration, verdict.calibrated_noise)."""
    info = benchmark_info(after.results_dir) or benchmark_info(before.results_dir)
    if noise is None:
        noise = verdict.calibrated_noise(after.machine or asvapi.host_machine())
    pair_envs = len(before.env_names) == 1 and len(after.env_names) == 1
    sides = [measurements_of(s, pair_envs, only) for s in (before, after)]
    rows = []
    for key in sorted(set(sides[0]) | set(sides[1])):
        name, env, bench = key
        b, a = sides[0].get(key), sides[1].get(key)
        unit = info.get(bench, {}).get("unit") or ""
        higher = unit in verdict.HIGHER_IS_BETTER_UNITS
        if b and a and b.version and a.version and b.version != a.version:
            decision, result = verdict.Decision("not comparable", math.nan), "not comparable"
        # a benchmark one side did not run at all (another selection, the load benchmarks of stored
        # results) is not measured, not failing
        elif (b is not None and b.ok) and (a is not None and not a.ok):
            decision, result = verdict.Decision("failing", math.nan), "failing"
        elif (b is not None and not b.ok) and (a is not None and a.ok):
            decision, result = verdict.Decision("fixed", math.nan), "fixed"
        elif b is None or a is None or not (a.ok and b.ok):
            decision, result = verdict.Decision("n/a", math.nan), "n/a"
        else:
            decision = verdict.decide(b.rounds, a.rounds, factor, higher, prior=noise.get(name))
            if decision.verdict == "no statistics":  # a track_ value: the ratio alone, shown
                ratio = (b.value / a.value if higher else a.value / b.value) if b.value else math.nan
                decision = verdict.Decision("no statistics", ratio)
            result = decision.verdict
        rows.append(Row(name, env, b, a, unit, decision, result))
    return adjust_for_many(rows)


def adjust_for_many(rows: list[Row]) -> list[Row]:
    """A table tests every counted benchmark at once: at p < 0.01 each, 39 benchmarks of the same
    code would flag one about every third comparison. The p-values between clusters are adjusted
    together (verdict.adjusted: Benjamini-Hochberg), so a whole A/A table flags anything with
    probability about ALPHA."""
    judged = [r for r in rows if r.counted and not math.isnan(r.decision.p)]
    for row, decision in zip(judged, verdict.adjusted([r.decision for r in judged])):
        row.decision, row.verdict = decision, decision.verdict
    return rows


def _value(m: Measurement | None, unit: str) -> str:
    if m is None or not m.ok:
        return "failed" if m is not None else "n/a"
    if m.samples and len(m.samples) >= 4:
        q1, q3 = _quartiles(m.samples)
        return asvapi.human_value(m.value, unit, err=(q3 - q1) / 2)
    return asvapi.human_value(m.value, unit)


def _quartiles(samples) -> tuple[float, float]:
    ordered = sorted(samples)
    n = len(ordered)
    return ordered[n // 4], ordered[(3 * n) // 4]


def render(rows: list[Row], before: Side, after: Side, factor: float, title: str | None = None,
           machine: str | None = None) -> str:
    regressions = [r for r in rows if r.flags_regression]
    improvements = [r for r in rows if r.counted and r.verdict in ("improvement", "fixed")]
    envs = {r.env for r in rows}
    head = (f"### {title or 'distributed ' + before.name + ' -> ' + after.name} (factor {factor:g}, "
            f"machine {machine or before.machine or asvapi.host_machine()})\n\n")
    if regressions:
        head += (f"**{len(regressions)} regression(s)**: "
                 + ", ".join(f"`{r.benchmark}`" for r in regressions) + "\n\n")
    else:
        head += "**No regression.**\n\n"
    samples = [len(m.samples) for r in rows for m in (r.before, r.after) if m and m.samples]
    rounds = [len(m.rounds) for r in rows for m in (r.before, r.after) if m and m.samples]
    calibrated = verdict.calibrated_noise(machine or after.machine or asvapi.host_machine())
    head += (f"{len(improvements)} improved, {sum(r.counted and r.verdict in ('same', 'insignificant') for r in rows)} "
             f"unchanged, {sum(not r.counted for r in rows)} not counted"
             + (f"; {min(rounds)}-{max(rounds)} round(s) (clusters) and {min(samples)}-{max(samples)} samples per side"
                if samples else "") + "; cluster noise "
             + ("from this machine's calibration" if calibrated else "from the rounds alone (this machine is not "
                "calibrated: make calibrate)") + ". "
             f"Rule: the {verdict.CONFIDENCE:.0%} interval of the ratio (a t-test of round medians against the "
             f"cluster-to-cluster noise) excludes 1, Mann-Whitney U on the samples p < {verdict.ALPHA:g}, and the ratio "
             "is beyond the factor. Change: `+` worse, `-` better, "
             "`!` now failing, `*` fixed, `x` not comparable (the benchmark's code or data changed), `~` beyond the "
             "factor but not significant, `?` too few samples or rounds; in parentheses: not counted (baselines, which do "
             "not run distributed, and single values without statistics). Ratio: above 1 is worse. p: the t-test's, "
             "adjusted for the counted benchmarks together (Benjamini-Hochberg), so neighbouring rows can share it.\n\n")
    table = []
    for r in sorted(rows, key=lambda r: (not r.flags_regression, not r.counted, r.benchmark, r.env)):
        name = r.benchmark + (f" [{r.env}]" if len(envs) > 1 else "")
        mark = MARKS.get(r.verdict, "")
        if mark and not r.counted:
            mark = f"({mark})"
        p = "" if math.isnan(r.decision.p) else f"{r.decision.p:.2g}"
        table.append([mark, _value(r.before, r.unit), _value(r.after, r.unit), verdict.format_ratio(r.decision),
                      p, name])
    headers = ["Change", f"Before [{before.commit[:8]}] <{before.name}>", f"After [{after.commit[:8]}] <{after.name}>",
               f"Ratio [{verdict.CONFIDENCE:.0%} CI]", "p", "Benchmark (Parameter)"]
    return head + tabulate.tabulate(table, headers=headers, tablefmt="github", disable_numparse=True) + "\n"


def measurement_options(parser, workdir: Path | None, markdown: Path | None) -> None:
    """The options every measuring command shares (compare, noise, ab, calibrate)."""
    parser.add_argument("--bench", "-b", action="append", default=[], help="benchmark regex (repeatable)")
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--factor", type=float, default=DEFAULT_FACTOR)
    parser.add_argument("--markdown", type=Path, default=markdown)
    if workdir is not None:
        parser.add_argument("--workdir", type=Path, default=workdir)
        parser.add_argument("--no-run", action="store_true", help="judge what the last run measured, without measuring")


def check_options(args) -> None:
    if args.factor is not None:  # None: each benchmark's own (make calibrate PAIRED=1)
        check_factor(args.factor)
    check_rounds(args.rounds)


def check_rounds(rounds: int) -> None:
    if rounds < 1:
        raise ToolError(f"ROUNDS={rounds}: measure at least 1 round (default {DEFAULT_ROUNDS})")


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    if "--interleaved" not in argv:  # the paired verdict; --paired is accepted as the default it is
        return paired.main([a for a in argv if a != "--paired"])
    argv = [a for a in argv if a != "--interleaved"]
    parser = argparse.ArgumentParser(prog="./compare BASE HEAD --interleaved", description=__doc__.split("\n\n")[0])
    parser.add_argument("base")
    parser.add_argument("head")
    measurement_options(parser, WORK_DIR, OUT_DIR / "compare.md")
    parser.add_argument("--profile", action="store_true",
                        help="profile every regressed benchmark on both sides and link the diff pages")
    parser.add_argument("--profiles", type=Path, default=profile.PROFILES_DIR, help="where --profile writes")
    parser.add_argument("--profile-seconds", type=float, default=5.0, help="how long each profile samples")
    parser.add_argument("--build-only", action="store_true",
                        help="build and install both sides' environments, measure nothing (then compare offline)")
    args = parser.parse_args(argv)
    check_options(args)
    conf = load_config(args.config)
    before, after = resolve(conf, args.base), resolve(conf, args.head)
    # Results files are keyed by commit: two commits share a results directory (so a comparison
    # the other way round can reuse them, --no-run); one commit against itself needs two.
    names = ("results", "results") if before != after else ("base", "head")
    # BASE in the configuration's own environment, HEAD in one of its own (see side_config)
    sides = [Side(args.base, side_config(names[0], args.config, args.workdir), before),
             Side(args.head, side_config(names[1], args.config, args.workdir, "head"), after)]
    if args.build_only:  # set up online now, measure later (offline, say)
        for side in sides:
            print(f"[build] {side.name} {side.commit[:8]}", flush=True)
            prebuild(side.config, side.commit)
        return 0
    if not args.no_run:
        measure_interleaved(sides, args.bench, args.rounds)
    rows = compare(sides[0], sides[1], args.factor, only=args.bench or None)
    text = render(rows, sides[0], sides[1], args.factor)
    if args.profile:
        regressed = [r.benchmark for r in rows if r.flags_regression]
        text += profile.profile_regressions(regressed, [(profile.installed(s.config, s.commit), s.commit) for s in sides]
                                            if regressed else [], args.markdown.parent, args.profile_seconds,
                                            args.profiles)
    print(text)
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(text)
    print(f"(written to {args.markdown})")
    return 1 if any(r.flags_regression for r in rows) else 0


if __name__ == "__main__":
    sys.exit(guarded_main(main=main))
