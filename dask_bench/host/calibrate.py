"""`make calibrate REV=<rev>`: how far the verdict can be trusted, measured.

    python -m dask_bench.host.calibrate REV [--aa 3] [--sites client,scheduler,worker] [--ms 0.1,1]
                                       [--bench REGEX] [--rounds 2] [--factor 1.10]

On top of REV (in a copy of the repository asv measures, under .asv/calibrate/) it makes:
- `--aa` commits that change nothing (empty commits: same code, new hash), and
- one commit per injected slowdown: a sleep of MS milliseconds in distributed's own code, at
  client: Client._graph_to_futures, per submitted key (the client's submission path);
  scheduler: SchedulerState._add_to_processing, per task (the scheduler's task transitions);
  worker: _run_task_simple, per task (the worker's task execution).
Every commit is measured as `make compare` measures a side (its own asv environment, interleaved
rounds, samples appended, rounds recorded), then each is compared with REV by the same decision rule.

The sides of the same code (REV and the A/A commits) also measure the cluster-to-cluster noise of
every benchmark (the spread of their log round-medians around the mean, dask_bench.host.verdict.Noise),
written to calibration.json as `cluster_noise`: committed as results/calibration/interleaved-<rev>.json (named in verdict.CLUSTER_NOISE), it is
the noise `make compare` judges this machine's comparisons against. The calibration's own verdicts
never use the data they judge: every pair is judged with the noise of this machine's committed
calibration (an earlier run, as every later comparison is), or, on a machine calibrated for the
first time, with the noise of the other A/A commits (all of them for an injection).

The detection matrix (calibration.md and calibration.json) gives per counted benchmark: the A/A
false alarms, the minimum detectable effect implied by the A/A pairs (verdict.detectable_effect, the
worst pair), and the ratio and verdict for every injection. With --paired, calibration.json also
keeps every pair's blocks (`pairs`, as paired.json keeps them), so a calibration can be judged again
when the rule changes; they are written to the work directory segment by segment (paired.Progress).
Run again with the same options and the same code, it resumes: a segment whose blocks the work
directory already holds (the same REV and side commits, benchmarks, blocks, segments, asv
configurations and code the servers run) is not measured again.

`--summary` (`make detection`) measures nothing: per counted benchmark `./compare` judges, the
paired calibration its policy names (results/calibration/, dask_bench/policy.py), if it measured the
benchmark on this machine at the blocks and segments its policy gives today; else "not calibrated at
these defaults".
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import tabulate

from . import asvapi, verdict
from .asv_config import OUT_DIR, REPO_ROOT, derive
from .. import policy
from .cli import ToolError, guarded_main, refuse_unused
from .compare import (DEFAULT_FACTOR, Row, Side, check_options, compare, measure_interleaved, measurement_options,
                      measurements_of)
from .paired import (PairedError, Pairs, Progress, blocks_needed, describe_factor, factor_of,
                     judge, measure_all, pairable_units, run_key, segments_needed)
from .revisions import environment_python, load_config, matched, prebuild, resolve
from .results import ResultsError

WORK_DIR = REPO_ROOT / ".asv" / "calibrate"
IDENTITY = {"GIT_AUTHOR_NAME": "dask-bench calibrate", "GIT_AUTHOR_EMAIL": "calibrate@localhost",
            "GIT_COMMITTER_NAME": "dask-bench calibrate", "GIT_COMMITTER_EMAIL": "calibrate@localhost",
            "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}

@dataclass(frozen=True)
class Site:
    path: str        # file in distributed's repository
    function: str    # the function whose body starts with the sleep
    statement: str   # {seconds} is the delay per task
    what: str


SITES = {
    "client": Site("distributed/client.py", "_graph_to_futures",
                   "__import__('time').sleep({seconds} * max(1, len(keys) if hasattr(keys, '__len__') else 1))",
                   "the client's submission path (Client._graph_to_futures), per submitted key"),
    "scheduler": Site("distributed/scheduler.py", "_add_to_processing", "__import__('time').sleep({seconds})",
                      "the scheduler's task transitions (SchedulerState._add_to_processing), per task"),
    "worker": Site("distributed/worker.py", "_run_task_simple", "__import__('time').sleep({seconds})",
                   "the worker's task execution (_run_task_simple), per task"),
}


class CalibrationError(ToolError):
    pass


def inject(source: str, function: str, statement: str) -> str:
    """`source` with `statement` as the first line of `function`'s body (before its docstring)."""
    match = re.search(rf"^(?P<indent>[ \t]*)(?:async )?def {re.escape(function)}\(", source, re.M)
    if match is None:
        raise CalibrationError(f"no function {function} to inject into; this revision is not supported")
    depth, i = 0, match.end() - 1
    while True:  # find the colon that ends the signature (parentheses balanced)
        ch = source[i]
        depth += ch == "("
        depth -= ch == ")"
        if ch == ":" and depth == 0:
            break
        i += 1
    end_of_line = source.index("\n", i) + 1
    body_indent = match.group("indent") + "    "
    return source[:end_of_line] + f"{body_indent}{statement}  # injected by dask_bench.host.calibrate\n" + source[end_of_line:]


def git(repo: Path, *args, date: str | None = None) -> str:
    dates = {"GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date} if date else {}
    proc = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          env={**os.environ, **IDENTITY, **dates})
    if proc.returncode != 0:
        raise CalibrationError(f"git {' '.join(args)}: {proc.stderr.strip()}")
    return proc.stdout.strip()


def make_commits(source_repo: str, rev: str, aa: int, injections: list[tuple[str, float]], workdir: Path) -> dict:
    """A repository with REV's commit on branch main plus the A/A and injected commits; returns
    {side name: commit}."""
    repo = workdir / "distributed"
    shutil.rmtree(repo, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "--no-checkout", source_repo, str(repo)], check=True,
                   env={**os.environ, **IDENTITY})
    base = git(repo, "rev-parse", f"{rev}^{{commit}}")
    # REV's own date: the same calibration makes the same commits again, whose builds asv then reuses
    date = git(repo, "log", "-1", "--format=%cI", base)
    git(repo, "checkout", "-q", "-B", "main", base)
    commits = {"REV": base}
    for k in range(1, aa + 1):
        git(repo, "checkout", "-q", "--detach", base)
        git(repo, "commit", "-q", "--allow-empty", "-m", f"A/A {k}: no change", date=date)
        commits[f"A/A {k}"] = git(repo, "rev-parse", "HEAD")
    for site_name, ms in injections:
        site = SITES[site_name]
        git(repo, "checkout", "-q", "--detach", base)
        path = repo / site.path
        path.write_text(inject(path.read_text(), site.function, site.statement.format(seconds=ms / 1000)))
        git(repo, "commit", "-q", "-am", f"Inject {ms:g} ms in {site.what}", date=date)
        commits[f"{site_name} {ms:g} ms"] = git(repo, "rev-parse", "HEAD")
    git(repo, "checkout", "-q", "main")
    return commits


def cluster_noise(sides: list[Side], only: list[str]) -> dict[str, verdict.Noise]:
    """The noise of each benchmark over every round of `sides` (all the same code), around their mean."""
    rounds: dict[str, list] = {}
    for side in sides:
        for (name, _, _), m in measurements_of(side, True, only).items():
            if m.samples:
                rounds.setdefault(name, []).extend(m.rounds)
    noise = {name: verdict.pooled_noise([verdict.as_rounds(r)]) for name, r in sorted(rounds.items())}
    return {name: n for name, n in noise.items() if n is not None}


def is_counted(label: str) -> bool:
    """Every benchmark a verdict counts, but the load benchmarks (make load's)."""
    return policy.counted(label) and policy.policy_of(label).selection != "load"


def goal_of(benchmark: str) -> float:
    name = benchmark.split("(")[0]
    return policy.policy_of(name).goal


def matrix(rows_by_side: dict, factor) -> list[dict]:
    """`factor`: the minimum effect, or a function of the benchmark giving it (paired: factor_of)."""
    # one entry per counted benchmark: false alarms, detectable effect, injection outcomes
    names = sorted({r.benchmark for rows in rows_by_side.values() for r in rows if r.counted})
    table = []
    for name in names:
        entry = {"benchmark": name, "aa": [], "injections": {}}
        for side, rows in rows_by_side.items():
            row = next((r for r in rows if r.benchmark == name), None)
            if row is None:
                continue
            cell = {"verdict": row.verdict, "ratio": row.decision.ratio, "low": row.decision.low,
                    "high": row.decision.high, "p": row.decision.p}
            if side.startswith("A/A"):
                cell["detectable_effect"] = verdict.detectable_effect(
                    row.decision, factor(name) if callable(factor) else factor)
                entry["aa"].append(cell)
            else:
                entry["injections"][side] = cell
        alarms = sum(c["verdict"] in ("regression", "improvement", "slower", "faster", "failing") for c in entry["aa"])
        entry["inconclusive"] = sum(c["verdict"] == verdict.INCONCLUSIVE for c in entry["aa"])
        effects = [c["detectable_effect"] for c in entry["aa"]]
        entry["false_alarms"] = alarms
        entry["detectable_effect"] = max(effects) if effects and not any(map(math.isnan, effects)) else math.nan
        entry["goal"] = goal_of(name)
        entry["factor"] = factor(name) if callable(factor) else factor
        table.append(entry)
    return table


def met(entry: dict) -> bool:
    """The issue's goal: no A/A false alarm, and a detectable effect within the family's goal."""
    return entry["false_alarms"] == 0 and entry["detectable_effect"] <= entry["goal"] + 1e-9


def render(table: list[dict], rev: str, factor: float | None, aa: int, sides: list[str], machine: str,
           method: str, noise: dict | None = None, judged_with: str = "") -> str:
    noise = noise or {}
    injections = [s for s in sides if not s.startswith("A/A") and s != "REV"]
    rows = []
    for e in table:
        cells = []
        for side in injections:
            c = e["injections"].get(side)
            cells.append("n/a" if c is None else f"{'**flagged**' if c['verdict'] in ('regression', 'slower') else c['verdict']} "
                         f"{verdict.three_digits(c['ratio'])}" if c['ratio'] == c['ratio'] else c["verdict"])
        mde = e["detectable_effect"]
        sd = noise.get(e["benchmark"])
        rows.append([e["benchmark"], f"{e['false_alarms']}/{len(e['aa'])}", f"{e.get('inconclusive', 0)}/{len(e['aa'])}",
                     "n/a" if sd is None else f"{sd.sd * 100:.1f}%",
                     "blind" if math.isnan(mde) else f"{mde * 100:.1f}%",
                     ("yes" if met(e) else "no") + f" (≤{e['goal'] * 100:.0f}%)", *cells])
    alarms = sum(e["false_alarms"] for e in table)
    head = (f"### Detection matrix of distributed {rev} ({describe_factor(factor)}, machine {machine})\n\n"
            f"{aa} A/A pairs (REV against an empty commit on top of it), {len(injections)} injected slowdowns, "
            f"each {method}. Counted A/A false alarms: **{alarms}**. "
            "A cell shows whether the injection was flagged as a regression and the ratio of medians "
            "(above 1: slower). Cluster noise (make compare's calibration only): the standard deviation of log "
            "round-medians of the same code (REV and the A/A commits), what `make compare` on this machine judges "
            "against. Detectable effect: "
            f"the smallest change the rule flags given the worst A/A pair (its offset times the "
            f"{verdict.CONFIDENCE:.0%} interval's half-width), never below the factor. {judged_with}\n\n")
    headers = ["Benchmark", "A/A false alarms", "A/A inconclusive", "Cluster noise", "Detectable effect", "Goal met", *injections]
    return head + tabulate.tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True) + "\n"


def parse_injections(sites: str, ms: str) -> list[tuple[str, float]]:
    chosen = [s.strip() for s in sites.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SITES]
    if unknown or not chosen:
        raise CalibrationError(f"unknown site {', '.join(unknown) or '(none)'}: choose from {', '.join(SITES)}")
    try:
        magnitudes = [float(m) for m in ms.split(",") if m.strip()]
    except ValueError:
        raise CalibrationError(f"MS={ms!r}: give milliseconds per task, e.g. 0.1,1") from None
    if not magnitudes or any(not m > 0 for m in magnitudes):
        raise CalibrationError(f"MS={ms!r}: give positive milliseconds per task, e.g. 0.1,1")
    return [(s, m) for s in chosen for m in magnitudes]


def paired_rows(sides: dict[str, Side], regex: str, factor: float, blocks: int | None, seconds: float,
                workdir: Path, segments: int | None = None) -> tuple[dict[str, list[Row]], dict[str, dict]]:
    """Every side compared with REV as `./compare` compares two revisions: both running at once,
    blocks alternating, the pairs judged by verdict.decide_paired (adjusted together per side).
    Returns the rows and, per side, every benchmark's blocks (paired.Pairs as stored), kept so that
    the calibration can be judged again; each side's are also written to the work directory segment
    by segment (paired.Progress), so the same command resumes where an interrupted one stopped."""
    pythons = {}
    for name, side in sides.items():
        prebuild(side.config, side.commit)
        pythons[name] = environment_python(side.config)
    units = pairable_units([label for label in matched(pythons["REV"], regex) if is_counted(label)])
    if not units:
        raise PairedError(f"BENCH={regex!r} matches no counted time_ benchmark")
    logs = workdir / "paired-logs"
    logs.mkdir(parents=True, exist_ok=True)
    rows, kept = {}, {}
    for name in sides:
        if name == "REV":
            continue
        slug = re.sub(r"\W+", "-", name)
        progress = Progress(workdir / f"blocks-{slug}.json", run_key([sides["REV"].commit, sides[name].commit],
                                          [sides["REV"].config, sides[name].config], units, blocks, seconds, segments))
        print(f"[pairs] REV and {name}", flush=True)
        measured, failed = measure_all((pythons["REV"], pythons[name]), units, blocks, seconds, logs, segments, progress)
        kept[name] = {label: pairs.record() for label, pairs in measured.items()}
        decisions = judge(measured, failed, factor)
        rows[name] = [Row(label, "", None, None, "seconds", d, d.verdict) for label, d in decisions.items()]
    return rows, kept


PAIRED_JUDGED_WITH = "Paired pairs need no cluster noise: the drift cancels within each pair of blocks."


def judge_again(path: Path, factor: float | None) -> str:
    """The detection matrix of a paired calibration.json, its kept blocks judged by today's rule
    (`factor`: another minimum effect for all, else each benchmark's)."""
    try:
        data = json.loads(path.read_text())
        kept, commits = data["pairs"], data["commits"]
        rows = {side: [Row(label, "", None, None, "seconds", d, d.verdict) for label, d in judge(
                    {label: Pairs.of_record(record) for label, record in pairs.items()},
                    {}, factor).items()]
                for side, pairs in kept.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CalibrationError(f"{path}: not a paired calibration.json that keeps its blocks ({exc}); "
                               "calibrations before the blocks were kept cannot be judged again") from None
    table = matrix(rows, lambda name: factor_of(name, factor))
    method = (f"measured beside REV at the same time ({path.name}), judged again from its kept blocks "
              "as `./compare` judges today")
    return render(table, data["rev"], factor, sum(n.startswith("A/A") for n in commits), list(commits),
                  data.get("machine", "unknown"), method, None, PAIRED_JUDGED_WITH)


def coverage(named: dict[str, Path | None], machine: str) -> list[dict | None]:
    """Per label (in order), the entry of the paired calibration its policy names (`named`: label ->
    path) with `file`, `date`, `blocks`, `segments`; None where it names none, or where that file was
    measured on another machine or at other blocks or segments than the label's policy gives today,
    so that a default changed since its calibration shows as not calibrated."""
    found = []
    for label, path in named.items():
        entry = None
        if path is not None:
            try:
                data = json.loads(Path(path).read_text())
            except (OSError, ValueError) as exc:
                raise CalibrationError(f"{path}: not a calibration JSON ({exc})") from None
            try:
                if isinstance(data, dict) and data.get("mode") == "paired" and data.get("machine") == machine:
                    blocks, segments = (data.get(key) or 1 for key in ("blocks", "segments"))
                    blocks, segments = (v[label] if isinstance(v, dict) else v for v in (blocks, segments))
                    for item in data["matrix"]:
                        if item["benchmark"] == label and (blocks, segments) == (blocks_needed([label]),
                                                                                 segments_needed([label])):
                            entry = {**item, "file": Path(path).name, "date": data["date"], "blocks": blocks,
                                     "segments": segments}
            except (KeyError, TypeError) as exc:
                raise CalibrationError(f"{path}: not a paired calibration's JSON (missing {exc})") from None
        found.append(entry)
    return found


def render_coverage(labels: list[str], entries: list[dict | None], machine: str) -> str:
    rows = [[label, f"{blocks_needed([label])}, {segments_needed([label])}"]
            + (["not calibrated at these defaults", "", "", ""] if e is None else
               [f"{e['false_alarms']}/{len(e['aa'])}",
                "blind" if math.isnan(e["detectable_effect"]) else f"{e['detectable_effect'] * 100:.1f}%",
                ("yes" if met(e) else "no") + f" (≤{e['goal'] * 100:.0f}%)", f"{e['file']} ({e['date'][:10]})"])
            for label, e in zip(labels, entries)]
    covered = [e for e in entries if e is not None]
    head = (f"### Paired detection at today's defaults (machine {machine})\n\n"
            f"Each counted benchmark `./compare` judges, with the blocks and segments it measures today, and "
            f"the calibration its policy names, if it measured it so: **{len(covered)} of {len(labels)}** "
            f"calibrated, **{sum(map(met, covered))}** meet their goal, "
            f"**{sum(e['false_alarms'] for e in covered)}** A/A false alarms. Detectable effect: the worst A/A "
            f"pair's offset times the {verdict.CONFIDENCE:.0%} interval's half-width, never below the factor.\n\n")
    headers = ["Benchmark", "Blocks, segments", "A/A false alarms", "Detectable effect", "Goal met", "Calibration"]
    return head + tabulate.tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True) + "\n"


def summary(machine: str) -> str:
    """The coverage table of every counted benchmark a paired verdict judges (the suite's own list),
    each from the calibration its policy names."""
    labels = [label for unit in pairable_units([label for label in matched(
        Path(sys.executable), policy.selection_regex("default")) if is_counted(label)]) for label in unit]
    named = {label: (policy.CALIBRATION_DIR / name if (name := policy.policy_of(label).calibration) else None)
             for label in labels}
    return render_coverage(labels, coverage(named, machine), machine)


def _without_measuring(parser, args, mode: str, used: set[str], text_of) -> int:
    """--summary and --judge: refuse a REV and the options `mode` would ignore, print the table
    `text_of()` makes (and write it to --markdown); 2 with a one-line error."""
    try:
        if args.rev:
            raise CalibrationError(f"{mode} measures nothing: give no revision")
        refuse_unused(parser, args, used, mode)
        text = text_of()
    except ToolError as exc:
        print(f"calibrate: error: {exc}", file=sys.stderr)
        return 2
    print(text)
    if args.markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(text)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", nargs="?")
    parser.add_argument("--judge", type=Path, metavar="CALIBRATION_JSON",
                        help="measure nothing: the matrix of a paired calibration.json, its kept blocks judged again")
    parser.add_argument("--aa", type=int, default=3, help="A/A pairs (default 3)")
    parser.add_argument("--sites", default=",".join(SITES))
    parser.add_argument("--ms", default="0.1,1", help="injected milliseconds per task (default 0.1,1)")
    parser.add_argument("--paired", action="store_true",
                        help=f"calibrate ./compare (paired) instead (default BENCH: the quick selection); writes calibration-paired.md")
    parser.add_argument("--blocks", type=int, help="with --paired: blocks a side (default: what each benchmark needs, "
                        "as ./compare: each benchmark's paired_blocks)")
    parser.add_argument("--block-seconds", type=float, default=0.5, help="with --paired: seconds a block (default 0.5)")
    parser.add_argument("--segments", type=int, help="with --paired: fresh pairs of servers a benchmark's blocks "
                                                     "are split among (default: as ./compare)")
    measurement_options(parser, WORK_DIR, None)
    parser.add_argument("--summary", action="store_true",
                        help="measure nothing: per counted benchmark ./compare judges, the paired "
                             "calibration its policy names (results/calibration/) at today's blocks and segments")
    parser.add_argument("--machine", help="with --summary: whose calibrations (default this host's)")
    parser.set_defaults(factor=None)  # make compare's 1.10, or with --paired each benchmark's (paired.factor_of)
    args = parser.parse_args(argv)
    if args.summary:
        return _without_measuring(parser, args, "--summary", {"summary", "machine", "markdown"},
                                  lambda: summary(args.machine or asvapi.host_machine()))
    if args.machine is not None:
        print("calibrate: error: --machine goes with --summary (a calibration measures this host)", file=sys.stderr)
        return 2
    if args.judge is not None:
        if args.factor is not None:
            try:
                check_options(args)
            except ToolError as exc:
                print(f"calibrate: error: {exc}", file=sys.stderr)
                return 2
        return _without_measuring(parser, args, "--judge", {"judge", "factor", "markdown"},
                                  lambda: judge_again(args.judge, args.factor))
    args.markdown = args.markdown or OUT_DIR / ("calibration-paired.md" if args.paired else "calibration.md")
    try:
        if not args.rev:
            raise CalibrationError("give REV, the revision to calibrate (or --judge CALIBRATION_JSON)")
        if not args.paired and args.factor is None:
            args.factor = DEFAULT_FACTOR
        check_options(args)
        if args.aa < 1:
            raise CalibrationError(f"--aa {args.aa}: at least 1 A/A pair")
        if args.paired and args.no_run:
            raise CalibrationError("--paired measures as it judges: there is no --no-run")
        if args.paired and args.blocks is not None and args.blocks < verdict.MIN_PAIRS:
            raise CalibrationError(f"--blocks {args.blocks}: at least {verdict.MIN_PAIRS}")
        if args.paired and args.segments is not None and args.segments < 1:
            raise CalibrationError(f"--segments {args.segments}: at least 1")
        injections = parse_injections(args.sites, args.ms)
        conf = load_config(args.config)
        resolve(conf, args.rev)
        if args.no_run:
            commits = json.loads((args.workdir / "commits.json").read_text())
        else:
            commits = make_commits(conf.repo, args.rev, args.aa, injections, args.workdir)
            (args.workdir / "commits.json").write_text(json.dumps(commits, indent=1))
        # an asv environment per side, as make compare has (REV in the configuration's own): each
        # commit stays installed, none is measured right after pip replaced distributed
        sides = {name: Side(name, derive(args.workdir / f"side-{i}.conf.json", args.config,
                                         repo=args.workdir / "distributed", results_dir=args.workdir / "results",
                                         **({"env_dir": args.workdir / f"env-{i}"} if i else {})), commit)
                 for i, (name, commit) in enumerate(commits.items())}
        aa_sides = [n for n in sides if n.startswith("A/A")]
        if args.paired:
            regex = "|".join(args.bench) or policy.selection_regex("quick")
            rows, kept = paired_rows(sides, regex, args.factor, args.blocks, args.block_seconds, args.workdir,
                                     args.segments)
            noise, committed = {}, None
            labels = [r.benchmark for r in next(iter(rows.values()))]
            blocks = {args.blocks} if args.blocks else {blocks_needed([label]) for label in labels}
            segments = {args.segments} if args.segments else {segments_needed([label]) for label in labels}
            method = (f"measured beside REV at the same time, {'-'.join(map(str, sorted(blocks)))} blocks "
                      f"of {args.block_seconds:g} s a side "
                      + (f"in {'-'.join(map(str, sorted(segments)))} segments (a fresh pair of servers each"
                         + ("" if args.segments else ", as `./compare` splits each benchmark") + ") "
                         if max(segments) > 1 else "")
                      + "alternating, and judged as `./compare` judges")
        else:
            bench = args.bench or [policy.selection_regex("default")]
            if not args.no_run:
                measure_interleaved(list(sides.values()), bench, args.rounds)
            # Never judge a pair with the noise of its own data: with the noise this machine's committed
            # calibration measured (an earlier run: as every later `make compare` is judged), or, on a
            # machine calibrated for the first time, the noise of the other A/A commits.
            committed = verdict.calibrated_noise(asvapi.host_machine())
            noise_for = {n: committed or cluster_noise([sides[o] for o in aa_sides if o != n], bench) for n in sides}
            rows = {name: compare(sides["REV"], side, args.factor, only=bench, noise=noise_for[name])
                    for name, side in sides.items() if name != "REV"}
            noise = cluster_noise([sides["REV"], *(sides[n] for n in aa_sides)], bench)
            method = (f"measured ({args.rounds} round(s) per side, interleaved) and compared as `make compare` "
                      "does")
    except (ToolError, OSError) as exc:
        print(f"calibrate: error: {exc}", file=sys.stderr)
        return 2
    table = matrix(rows, (lambda name: factor_of(name, args.factor)) if args.paired else args.factor)
    if args.paired:
        judged_with = PAIRED_JUDGED_WITH
    else:
        judged_with = ("Every pair was judged with the cluster noise of this machine's committed calibration (an "
                       "earlier run)." if committed else "This machine had no committed calibration: every pair "
                       "was judged with the cluster noise of the other A/A commits.")
    text = render(table, args.rev, args.factor, sum(n.startswith("A/A") for n in commits), list(commits),
                  asvapi.host_machine(), method, noise, judged_with)
    print(text)
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    args.markdown.write_text(text)
    args.markdown.with_suffix(".json").write_text(json.dumps(
        {"rev": args.rev, "factor": args.factor, "machine": asvapi.host_machine(),
         **({"mode": "paired", "blocks": args.blocks or {e["benchmark"]: blocks_needed([e["benchmark"]]) for e in table},
             "segments": args.segments or {e["benchmark"]: segments_needed([e["benchmark"]]) for e in table},
             "block_seconds": args.block_seconds, "pairs": kept} if args.paired
            else {"rounds": args.rounds}),
         "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
         "commits": commits, "matrix": table,
         "cluster_noise": {name: {"sd": n.sd, "df": n.df} for name, n in noise.items()}},
        indent=1, default=str) + "\n")
    print(f"(written to {args.markdown} and {args.markdown.with_suffix('.json')})")
    return 0


if __name__ == "__main__":
    sys.exit(guarded_main(main=main, prog="calibrate"))
