"""`make calibrate REV=<rev>`: how far the paired verdict can be trusted, measured.

    python -m dask_bench.host.calibrate REV [--aa 5] [--sites client,scheduler,worker|none] [--ms 0.1,1]
                                       [-b REGEX] [--blocks N] [--segments N] [--sequential | --fixed]
    python -m dask_bench.host.calibrate --judge CALIBRATION_JSON | --summary [--machine M]

On top of REV (in a copy of the repository asv measures, under .asv/calibrate/) it makes `--aa`
commits that change nothing (empty commits: same code, new hash) and one commit per injected
slowdown, a sleep of MS milliseconds per task in distributed's own code at a SITE. Each commit is
measured beside REV as `./compare` measures two revisions (dask_bench.host.paired: at once, blocks
alternating; sequential where its policy says so or with --sequential, stopping each benchmark
once settled) and judged by its rule. The
detection matrix (out/calibration.md, .json) gives per counted benchmark the A/A false alarms, the
detectable effect the A/A pairs imply (verdict.detectable_effect, the worst pair), each injection's
verdict and ratio, and how long each verdict took; the JSON keeps every pair's blocks, so
`--judge` judges it again by today's rule. Interrupted, the same command resumes segment by segment
(paired.Progress); once written, run again, it measures new pairs. `--summary` (`make detection`)
measures nothing: per counted benchmark, the
calibration its policy names (results/calibration/) if it measured it on this machine at the blocks
and segments its policy gives today. How the committed calibrations were made: docs/calibration.md.
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import tabulate
from scipy import stats

from . import asvapi, chain, verdict
from .asv_config import MAIN_CONFIG, OUT_DIR, REPO_ROOT, derive
from .. import policy
from .cli import ToolError, command, refuse_unused, write
from .paired import (PairedError, Pairs, Progress, add_plan_options, blocks_needed, check_plan, counts, replay,
                     describe_factor, duration, factor_of, judge, measure_all, run_key, segments_needed,
                     sequential_of)
from .revisions import environment_python, listing, load_config, prebuild, resolve

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


def _clone(source_repo: str, rev: str, workdir: Path) -> tuple[Path, str, str]:
    """A fresh clone of the repository asv measures in workdir/distributed, REV's commit on branch
    main: (its path, REV's hash, REV's date: the commits made on it carry it, so the same calibration
    makes the same commits again, whose builds asv then reuses)."""
    repo = workdir / "distributed"
    shutil.rmtree(repo, ignore_errors=True)
    subprocess.run(["git", "clone", "-q", "--no-checkout", source_repo, str(repo)], check=True,
                   env={**os.environ, **IDENTITY})
    base = git(repo, "rev-parse", f"{rev}^{{commit}}")
    git(repo, "checkout", "-q", "-B", "main", base)
    return repo, base, git(repo, "log", "-1", "--format=%cI", base)


def _commit(repo: Path, date: str, message: str, injection: tuple[str, float] | None = None) -> str:
    """A commit on what is checked out, empty or injecting (site, ms); its hash. `message` takes
    {what} (the injection, else "no change") or {What} (capitalized). Keep the messages: earlier
    calibrations' builds and kept blocks are found by the hashes they are part of."""
    if injection:
        site = SITES[injection[0]]
        path = repo / site.path
        path.write_text(inject(path.read_text(), site.function, site.statement.format(seconds=injection[1] / 1000)))
    what = f"inject {injection[1]:g} ms in {SITES[injection[0]].what}" if injection else "no change"
    git(repo, "commit", "-q", "-a", "--allow-empty", "-m", message.format(what=what, What=what[0].upper() + what[1:]),
        date=date)
    return git(repo, "rev-parse", "HEAD")


def make_commits(source_repo: str, rev: str, aa: int, injections: list[tuple[str, float]], workdir: Path) -> dict:
    """A repository with REV's commit on branch main plus the A/A and injected commits, each on REV;
    returns {side name: commit}."""
    repo, base, date = _clone(source_repo, rev, workdir)
    commits = {"REV": base}
    for name, message, injection in [*((f"A/A {k}", f"A/A {k}: {{what}}", None) for k in range(1, aa + 1)),
                                     *((f"{site} {ms:g} ms", "{What}", (site, ms))
                                       for site, ms in injections)]:
        git(repo, "checkout", "-q", "--detach", base)
        commits[name] = _commit(repo, date, message, injection)
    git(repo, "checkout", "-q", "main")
    return commits


def make_history(source_repo: str, rev: str, length: int, step_at: int, injection: tuple[str, float] | None,
                 workdir: Path) -> list[str]:
    """A release-like history on top of REV (branch main of workdir/distributed): `length` commits
    tagged h0-<REV's tag> (REV itself) to h<length-1>-<tag>, each an empty commit but the one at
    `step_at`, which injects `injection` (the commits after it keep it); step_at 0: all the same code."""
    repo, base, date = _clone(source_repo, rev, workdir)
    # tags the build's version comes from (setuptools_scm reads "h3-2026.8.0" as 2026.8.0)
    names = [f"h{k}-{git(repo, 'describe', '--tags', '--abbrev=0', base)}" for k in range(length)]
    git(repo, "tag", "-f", names[0], base)
    for k in range(1, length):
        _commit(repo, date, f"h{k}: {{what}}", injection if k == step_at else None)
        git(repo, "tag", "-f", names[k])
    return names


def history_check(args, injection: tuple[str, float] | None) -> tuple[str, int]:
    """`make history`'s detector on a history whose one step is known (--history N --step-at K; K 0:
    none): its chain measured as make history measures (chain.py), then every flag compared with
    the step. (text, 0 when exactly the known step is flagged, by at least one benchmark, and nothing
    else; 1 otherwise)."""
    workdir = args.workdir / "history"
    names = make_history(load_config(args.config).repo, args.rev, args.history, args.step_at, injection, workdir)
    config = derive(workdir / "history.conf.json", args.config, repo=workdir / "distributed",
                    results_dir=workdir / "results")
    regex = "|".join(f"(?:{b})" for b in args.bench) or policy.selection_regex("quick")
    plan = [*(["--blocks", str(args.blocks)] if args.blocks else []), "--block-seconds", str(args.block_seconds),
            *(["--segments", str(args.segments)] if args.segments else []),
            *({True: ["--sequential"], False: ["--fixed"]}.get(args.sequential, []))]
    # one folder per history: its newest commit's hash covers every commit before it (another
    # STEP_AT, site or size is another history, whose pairs bear the same names)
    folder = workdir / f"chain-{git(workdir / 'distributed', 'rev-parse', names[-1])[:12]}"
    if chain.main(["--measure", "--releases", " ".join(names), "--folder", str(folder), "-b", regex,
                   "--config", str(config), "--workdir", str(args.workdir), *plan]) == 2:
        raise CalibrationError(f"the history's chain failed (see above); run again to resume ({folder})")
    found = chain.steps(chain.links(names, folder))
    known = (names[args.step_at - 1], names[args.step_at]) if args.step_at else None
    hits = [link for link in found if (link.before, link.after) == known and link.decision.verdict == verdict.SLOWER]
    others = [link for link in found if link not in hits]
    what = (f"the known step {known[0]}..{known[1]} ({injection[0]} {injection[1]:g} ms) flagged slower by "
            f"{len(hits)} benchmark(s)" if known else f"no step in {len(names)} commits of the same code")
    ok = (bool(hits) or not known) and not others
    text = (f"### make history's detector on a known history of distributed {args.rev}\n\n{what}; "
            f"{len(others)} other flag(s){': ' + ', '.join(f'{l.before}..{l.after} {l.decision.verdict}' for l in others) if others else ''}"
            f": **{'as it should' if ok else 'NOT as it should'}** (each pair's table and blocks: {folder}).\n\n"
            f"```\n{chain.render(names, chain.links(names, folder), folder)}\n```\n")
    return text, 0 if ok else 1


def is_counted(label: str) -> bool:
    """Every benchmark a verdict counts, but the load benchmarks (make load's)."""
    return counts(label) and policy.policy_of(label).selection != "load"


def goal_of(benchmark: str) -> float:
    return policy.policy_of(benchmark.split("(")[0]).goal


def matrix(decided: dict[str, dict[str, verdict.Decision]], factor: float | None,
           kept: dict[str, dict[str, Pairs]] | None = None) -> list[dict]:
    """One entry per counted benchmark: its A/A verdicts and false alarms, the detectable effect the
    worst A/A pair implies, each injection's verdict, and (when known) each verdict's seconds and,
    of them, the seconds starting and stopping servers (`kept`: each side's Pairs)."""
    kept = kept or {}
    table = []
    for name in sorted({label for decisions in decided.values() for label in decisions if is_counted(label)}):
        entry = {"benchmark": name, "aa": [], "injections": {}}
        for side, decisions in decided.items():
            d = decisions.get(name)
            if d is None:
                continue
            pairs = kept.get(side, {}).get(name)
            cell = {"verdict": d.verdict, "ratio": d.ratio, "low": d.low, "high": d.high, "p": d.p,
                    **({"seconds": pairs.seconds} if pairs and pairs.seconds else {}),
                    **({"fixed_seconds": pairs.fixed} if pairs and pairs.fixed else {})}
            if side.startswith("A/A"):
                cell["detectable_effect"] = verdict.detectable_effect(d, factor_of(name, factor))
                entry["aa"].append(cell)
            else:
                entry["injections"][side] = cell
        effects = [c["detectable_effect"] for c in entry["aa"]]
        entry.update(false_alarms=sum(c["verdict"] in (verdict.SLOWER, verdict.FASTER, "failing") for c in entry["aa"]),
                     inconclusive=sum(c["verdict"] == verdict.INCONCLUSIVE for c in entry["aa"]),
                     detectable_effect=max(effects) if effects and not any(map(math.isnan, effects)) else math.nan,
                     goal=goal_of(name), factor=factor_of(name, factor))
        table.append(entry)
    return table


def met(entry: dict) -> bool:
    """The goal: no A/A false alarm, and a detectable effect within the family's goal."""
    return entry["false_alarms"] == 0 and entry["detectable_effect"] <= entry["goal"] + 1e-9


def render(table: list[dict], rev: str, factor: float | None, aa: int, sides: list[str], machine: str,
           method: str) -> str:
    injections = [s for s in sides if not s.startswith("A/A") and s != "REV"]
    rows = []
    for e in table:
        cells = [("n/a" if c is None else f"{'**' + c['verdict'] + '**' if c['verdict'] == verdict.SLOWER else c['verdict']}"
                  f" {verdict.three_digits(c['ratio'])}" if c is not None and c['ratio'] == c['ratio'] else
                  (c or {}).get("verdict", "n/a")) for c in (e["injections"].get(side) for side in injections)]
        mde = e["detectable_effect"]
        rows.append([e["benchmark"], f"{e['false_alarms']}/{len(e['aa'])}", f"{e.get('inconclusive', 0)}/{len(e['aa'])}",
                     "blind" if math.isnan(mde) else f"{mde * 100:.1f}%",
                     ("yes" if met(e) else "no") + f" (≤{e['goal'] * 100:.0f}%)", *cells])
    head = (f"### Detection matrix of distributed {rev} ({describe_factor(factor)}, machine {machine})\n\n"
            f"{aa} A/A pairs (REV against an empty commit on top of it), {len(injections)} injected slowdowns, "
            f"each {method}. Counted A/A false alarms: **{sum(e['false_alarms'] for e in table)}**. A cell: the "
            "injection's verdict and ratio (above 1: slower). Detectable effect: the worst A/A pair's offset times "
            f"the {verdict.CONFIDENCE:.0%} interval's half-width, never below the factor.\n\n")
    headers = ["Benchmark", "A/A false alarms", "A/A inconclusive", "Detectable effect", "Goal met", *injections]
    text = head + tabulate.tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True) + "\n"
    return text + false_alarm_bound(table) + times_to_verdict(table)


def false_alarm_bound(table: list[dict]) -> str:
    """The one-sided 95% upper bound (Clopper-Pearson, scipy's beta) on the false-alarm rate per
    benchmark and A/A pair that the matrix's A/A pairs imply (0 in n: 1 - 0.05^(1/n), about 3/n)."""
    pairs = sum(len(e["aa"]) for e in table)
    alarms = sum(e["false_alarms"] for e in table)
    if not pairs:
        return ""
    bound = float(stats.beta.ppf(0.95, alarms + 1, pairs - alarms)) if alarms < pairs else 1.0
    return (f"\n{alarms} false alarm(s) in {pairs} A/A verdicts ({len(table)} benchmarks): the false-alarm rate "
            f"per benchmark and pair is below {bound:.1%} with 95% confidence (Clopper-Pearson).\n")


def times_to_verdict(table: list[dict]) -> str:
    """Per outcome, the median and worst seconds a verdict took (the unit's measuring time), over
    every pair of the matrix that recorded it; "" when none did."""
    by_outcome: dict[str, list[tuple[float, float]]] = {}
    for e in table:
        for c in [*e["aa"], *e["injections"].values()]:
            if c.get("seconds"):
                by_outcome.setdefault(c["verdict"], []).append((c["seconds"], c.get("fixed_seconds", math.nan)))
    if not by_outcome:
        return ""
    rows = [[outcome, len(times), duration(statistics.median(t for t, _ in times)), duration(max(t for t, _ in times)),
             "" if any(math.isnan(f) for _, f in times) else f"{statistics.median(f / t for t, f in times):.0%}"]
            for outcome, times in sorted(by_outcome.items())]
    return ("\nTime to verdict per benchmark (its unit's measuring time, builds apart; fixed: the share spent "
            "starting and stopping servers and clusters, median):\n\n"
            + tabulate.tabulate(rows, headers=["verdict", "pairs", "median", "worst", "fixed"], tablefmt="github",
                                disable_numparse=True) + "\n")


def parse_injections(sites: str, ms: str) -> list[tuple[str, float]]:
    """(site, ms) of every injection; none for SITES=none (A/A pairs only, as to add pairs to a calibration)."""
    if sites.strip() == "none":
        return []
    chosen = [s.strip() for s in sites.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in SITES]
    if unknown or not chosen:
        raise CalibrationError(f"unknown site {', '.join(unknown) or '(none)'}: choose from {', '.join(SITES)}, or none")
    try:
        magnitudes = [float(m) for m in ms.split(",") if m.strip()]
    except ValueError:
        raise CalibrationError(f"MS={ms!r}: give milliseconds per task, e.g. 0.1,1") from None
    if not magnitudes or any(not m > 0 for m in magnitudes):
        raise CalibrationError(f"MS={ms!r}: give positive milliseconds per task, e.g. 0.1,1")
    return [(s, m) for s in chosen for m in magnitudes]


def measure_sides(configs: dict[str, Path], commits: dict[str, str], regex: str, args) -> tuple[dict, dict, list]:
    """Every side measured beside REV as `./compare` measures two revisions and judged as it judges:
    ({side: {label: Decision}}, {side: {label: Pairs}}, [each side's Progress]); each side's blocks
    are kept in the work directory segment by segment (paired.Progress), so the same command resumes
    until the calibration is written (then they are discarded: a new run measures new pairs)."""
    pythons = {}
    for name, config in configs.items():
        prebuild(config, commits[name])
        pythons[name] = environment_python(config)
    units = [[label for label in unit if is_counted(label)] for unit in listing(pythons["REV"], regex)["units"]]
    units = [unit for unit in units if unit]
    if not units:
        raise PairedError(f"BENCH={regex!r} matches no counted time_ benchmark")
    logs = args.workdir / "paired-logs"
    logs.mkdir(parents=True, exist_ok=True)
    decided, kept, progresses = {}, {}, []
    for name in configs:
        if name == "REV":
            continue
        key = run_key([commits["REV"], commits[name]], [configs["REV"], configs[name]], units, args.blocks,
                      args.block_seconds, args.segments, args.sequential)
        slug = re.sub(r"\W+", "-", name)
        progress = Progress(args.workdir / f"blocks-{slug}.json", key)
        progresses.append(progress)
        print(f"[pairs] REV and {name}", flush=True)
        measured, failed = measure_all((pythons["REV"], pythons[name]), units, args.blocks, args.block_seconds, logs,
                                       args.segments, progress, args.sequential, args.factor)
        kept[name] = measured
        decided[name] = judge(measured, failed, args.factor)
    return decided, kept, progresses


def judge_again(path: Path, factor: float | None) -> str:
    """The detection matrix of a calibration's JSON, its kept blocks judged by today's rule
    (`factor`: another minimum effect for all, else each benchmark's)."""
    try:
        data = json.loads(path.read_text())
        kept, commits = data["pairs"], data["commits"]
        pairs = {side: replay({label: Pairs.of_record(record) for label, record in by_label.items()}, factor)
                 for side, by_label in kept.items()}
        decided = {side: judge(by_label, {}, factor) for side, by_label in pairs.items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise CalibrationError(f"{path}: not a calibration's JSON that keeps its blocks ({exc}); "
                               "calibrations before the blocks were kept cannot be judged again") from None
    method = (f"measured beside REV at the same time ({path.name}), judged again from its kept blocks "
              "as `./compare` judges today (a sequential unit cut at the look where today's rule stops it, "
              "its time as measured)")
    return render(matrix(decided, factor, pairs), data["rev"], factor, sum(n.startswith("A/A") for n in commits),
                  list(commits), ", ".join(filter(None, (data.get("machine", "unknown"), data.get("cpu")))), method)


def coverage(named: dict[str, Path | list[Path] | None], machine: str) -> list[dict | None]:
    """Per label (in order), the entry of the paired calibration its policy names (`named`: label ->
    path, or paths whose A/A pairs pool) with `file`, `date`, `blocks`, `segments`; None where it names
    none, or where a file it names was measured on another machine or at other blocks, segments or
    looks (sequential or not) than the label's policy gives today, so that a default changed since its
    calibration shows as not calibrated."""
    found = []
    for label, paths in named.items():
        paths = [] if paths is None else [paths] if isinstance(paths, (str, Path)) else list(paths)
        entries = [_entry(label, Path(path), machine) for path in paths]
        found.append(_pooled(entries) if entries and all(entries) else None)
    return found


def _entry(label: str, path: Path, machine: str) -> dict | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise CalibrationError(f"{path}: not a calibration JSON ({exc})") from None
    try:
        if isinstance(data, dict) and data.get("mode") == "paired" and data.get("machine") == machine:
            plan = [data.get("blocks") or 1, data.get("segments") or 1, data.get("sequential", False)]
            blocks, segments, looked = (v[label] if isinstance(v, dict) else v for v in plan)
            for item in data["matrix"]:
                if item["benchmark"] == label and (blocks, segments, bool(looked)) == (
                        blocks_needed([label]), segments_needed([label]), sequential_of([label])):
                    return {**item, "aa": [{**cell, "run": (path.name, k)} for k, cell in enumerate(item["aa"])],
                            "file": path.name, "date": data["date"], "blocks": blocks, "segments": segments,
                            "source": f"{path.name} ({data['date'][:10]})"}
    except (KeyError, TypeError) as exc:
        raise CalibrationError(f"{path}: not a paired calibration's JSON (missing {exc})") from None
    return None


def _pooled(entries: list[dict]) -> dict:
    """One entry from several calibrations of a label at the same plan: their A/A pairs together,
    the worst pair's detectable effect; `file` and `date` the last named's."""
    effects = [e["detectable_effect"] for e in entries]
    return {**entries[-1], "aa": [c for e in entries for c in e["aa"]],
            "false_alarms": sum(e["false_alarms"] for e in entries),
            "inconclusive": sum(e.get("inconclusive", 0) for e in entries),
            "detectable_effect": math.nan if any(map(math.isnan, effects)) else max(effects),
            "source": " + ".join(e["source"] for e in entries)}


def aa_seconds(entry: dict | None) -> list[float]:
    """How long each A/A verdict of a coverage entry took (its unit's measuring time), where recorded."""
    return [c["seconds"] for c in (entry or {}).get("aa", []) if c.get("seconds")]


def time_line(labels: list[str], entries: list[dict | None], units: list[list[str]]) -> str:
    """Time to an A/A verdict, from the calibrations' own runs: per unit (one server measures all its
    labels at once) the median and worst, summed over the quick selection (./compare's default) and
    over every counted benchmark; the units whose calibration recorded no times are counted apart."""
    by_label = dict(zip(labels, entries))
    parts = []
    for name, chosen in (("the quick selection (`./compare`'s default)", "quick"), ("every counted benchmark", None)):
        picked = [u for u in units if chosen is None or policy.policy_of(u[0]).selection == chosen]
        timed = [times for u in picked if (times := aa_seconds(by_label.get(u[0])))]
        if not timed:
            continue
        parts.append(f"{name}: {duration(sum(map(statistics.median, timed)))} (worst {duration(sum(map(max, timed)))})"
                     f" over {len(timed)} of {len(picked)} units"
                     + (f", {len(picked) - len(timed)} calibrated before times were recorded" if len(timed) < len(picked) else "")
                     + whole_runs(picked, by_label))
    return ("\nTime to an A/A verdict, measuring only (builds apart), summed over the units measured one after "
            "another, each unit's median (worst) over its calibration's A/A pairs: " + "; ".join(parts) + ".\n"
            if parts else "")


def whole_runs(units: list[list[str]], by_label: dict) -> str:
    """The A/A runs that measured every one of several `units` (the same pair of one calibration),
    each unit's time summed: their median and slowest, as a run of them took (the sum of each unit's
    worst pair above is a bound no run need reach)."""
    runs: dict[tuple, list[float]] = {}
    for unit in units:
        for cell in (by_label.get(unit[0]) or {}).get("aa", []):
            if cell.get("seconds") and "run" in cell:
                runs.setdefault(tuple(cell["run"]), []).append(cell["seconds"])
    whole = [sum(times) for times in runs.values() if len(times) == len(units)]
    if len(units) < 2 or not whole:
        return ""
    return (f"; the {len(whole)} A/A runs that measured all {len(units)} together: {duration(statistics.median(whole))}"
            f" (slowest {duration(max(whole))})")


def render_coverage(labels: list[str], entries: list[dict | None], machine: str,
                    units: list[list[str]] | None = None) -> str:
    def took(e):
        times = aa_seconds(e)
        return f"{duration(statistics.median(times))} ({duration(max(times))})" if times else ""

    rows = [[label, f"{blocks_needed([label])}, {segments_needed([label])}"
             + (", sequential" if sequential_of([label]) else "")]
            + (["not calibrated at these defaults", "", "", "", ""] if e is None else
               [f"{e['false_alarms']}/{len(e['aa'])}",
                "blind" if math.isnan(e["detectable_effect"]) else f"{e['detectable_effect'] * 100:.1f}%",
                ("yes" if met(e) else "no") + f" (≤{e['goal'] * 100:.0f}%)", took(e), e["source"]])
            for label, e in zip(labels, entries)]
    covered = [e for e in entries if e is not None]
    head = (f"### Paired detection at today's defaults (machine {machine})\n\n"
            f"Each counted benchmark `./compare` judges, with the blocks, segments and looks it measures today, and "
            f"the calibration its policy names, if it measured it so: **{len(covered)} of {len(labels)}** "
            f"calibrated, **{sum(map(met, covered))}** meet their goal, "
            f"**{sum(e['false_alarms'] for e in covered)}** A/A false alarms. Detectable effect: the worst A/A "
            f"pair's offset times the {verdict.CONFIDENCE:.0%} interval's half-width, never below the factor.\n\n")
    headers = ["Benchmark", "Blocks, segments (looks)", "A/A false alarms", "Detectable effect", "Goal met",
               "A/A time, median (worst)", "Calibration"]
    return (head + tabulate.tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True) + "\n"
            + false_alarm_bound(covered) + time_line(labels, entries, units or [[label] for label in labels]))


def summary(machine: str) -> str:
    """The coverage table of every counted benchmark a paired verdict judges (the suite's own list),
    each from the calibration its policy names."""
    units = [[label for label in unit if is_counted(label)]
             for unit in listing(Path(sys.executable), policy.selection_regex("default"))["units"]]
    units = [unit for unit in units if unit]
    labels = [label for unit in units for label in unit]
    named = {label: [policy.CALIBRATION_DIR / name for name in policy.policy_of(label).calibrations] or None
             for label in labels}
    return render_coverage(labels, coverage(named, machine), machine, units)


def _without_measuring(parser, args, mode: str, used: set[str], text_of) -> int:
    """--summary and --judge: refuse a REV and the options `mode` would ignore, print the table
    `text_of()` makes (and write it to --markdown)."""
    if args.rev:
        raise CalibrationError(f"{mode} measures nothing: give no revision")
    refuse_unused(parser, args, used, mode)
    text = text_of()
    print(text)
    if args.markdown:
        write(args.markdown, text)
    return 0


@command("calibrate")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.calibrate", description=__doc__.split("\n\n")[0])
    parser.add_argument("rev", nargs="?")
    parser.add_argument("--judge", type=Path, metavar="CALIBRATION_JSON",
                        help="measure nothing: the matrix of a calibration's JSON, its kept blocks judged again")
    parser.add_argument("--summary", action="store_true",
                        help="measure nothing: per counted benchmark ./compare judges, the calibration its "
                             "policy names (results/calibration/) at today's blocks and segments")
    parser.add_argument("--machine", help="with --summary: whose calibrations (default this host's)")
    parser.add_argument("--aa", type=int, default=5, help="A/A pairs (default 5)")
    parser.add_argument("--sites", default=",".join(SITES),
                        help=f"where to inject, of {', '.join(SITES)}; none: A/A pairs only (default all)")
    parser.add_argument("--ms", default="0.1,1", help="injected milliseconds per task (default 0.1,1)")
    parser.add_argument("--bench", "-b", action="append", default=[], help="benchmark regex (default: the quick selection)")
    add_plan_options(parser)
    parser.add_argument("--block-seconds", type=float, default=0.5, help="seconds a block (default 0.5)")
    parser.add_argument("--history", type=int, metavar="N",
                        help="instead: make history's detector on N commits with one known step (the first injection)")
    parser.add_argument("--step-at", type=int, help="with --history: the commit that injects (default N // 2; 0: none)")
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    parser.add_argument("--workdir", type=Path, default=WORK_DIR)
    parser.add_argument("--markdown", type=Path)
    args = parser.parse_args(argv)
    if args.summary:
        return _without_measuring(parser, args, "--summary", {"summary", "machine", "markdown"},
                                  lambda: summary(args.machine or asvapi.host_machine()))
    if args.machine is not None:
        raise CalibrationError("--machine goes with --summary (a calibration measures this host)")
    if args.judge is not None:  # its unused options refused before check_plan resolves --fixed
        return _without_measuring(parser, args, "--judge", {"judge", "factor", "markdown"},
                                  lambda: check_plan(args) or judge_again(args.judge, args.factor))
    check_plan(args)
    args.markdown = args.markdown or OUT_DIR / "calibration.md"
    if not args.rev:
        raise CalibrationError("give REV, the revision to calibrate (or --judge CALIBRATION_JSON)")
    if args.aa < 1:
        raise CalibrationError(f"--aa {args.aa}: at least 1 A/A pair")
    injections = parse_injections(args.sites, args.ms)
    conf = load_config(args.config)
    resolve(conf, args.rev)
    if args.step_at is not None and args.history is None:
        raise CalibrationError("--step-at goes with --history N (STEP_AT with HISTORY)")
    if args.history is not None:
        args.step_at = args.history // 2 if args.step_at is None else args.step_at
        if args.history < 3 or not 0 <= args.step_at < args.history:
            raise CalibrationError(f"--history {args.history} --step-at {args.step_at}: at least 3 commits, "
                                   "and the step one of them after the first (0: none)")
        if args.step_at and not injections:
            raise CalibrationError("a known step needs an injection: give SITES and MS, or STEP_AT=0")
        text, code = history_check(args, injections[0] if injections else None)
        print(text)
        write(args.markdown.with_name("history-calibration.md"), text)
        return code
    commits = make_commits(conf.repo, args.rev, args.aa, injections, args.workdir)
    # an asv environment per side (REV in the configuration's own): each commit stays installed,
    # none is measured right after pip replaced distributed
    configs = {name: derive(args.workdir / f"side-{i}.conf.json", args.config, repo=args.workdir / "distributed",
                            results_dir=args.workdir / "results",
                            **({"env_dir": args.workdir / f"env-{i}"} if i else {}))
               for i, name in enumerate(commits)}
    regex = "|".join(f"(?:{b})" for b in args.bench) or policy.selection_regex("quick")
    decided, kept, progresses = measure_sides(configs, commits, regex, args)
    table = matrix(decided, args.factor, kept)
    labels = [e["benchmark"] for e in table]
    blocks = {args.blocks} if args.blocks else {blocks_needed([label]) for label in labels}
    segments = {args.segments} if args.segments else {segments_needed([label]) for label in labels}
    looked = {label: sequential_of([label], args.sequential) for label in labels}
    method = (f"measured beside REV at the same time, {'-'.join(map(str, sorted(blocks)))} blocks of "
              f"{args.block_seconds:g} s a side in {'-'.join(map(str, sorted(segments)))} segment(s)"
              + (", looking after each segment and stopping once settled (sequential)" if all(looked.values())
                 else f", {sum(looked.values())} of them sequential" if any(looked.values()) else "")
              + ", and judged as `./compare` judges")
    cpu = asvapi.host_cpu()
    text = render(table, args.rev, args.factor, args.aa, list(commits), f"{asvapi.host_machine()}, {cpu}", method)
    print(text)
    write(args.markdown, text)
    args.markdown.with_suffix(".json").write_text(json.dumps(
        {"rev": args.rev, "factor": args.factor, "machine": asvapi.host_machine(), "cpu": cpu, "mode": "paired",
         "sequential": looked,
         "blocks": args.blocks or {label: blocks_needed([label]) for label in labels},
         "segments": args.segments or {label: segments_needed([label]) for label in labels},
         "block_seconds": args.block_seconds,
         "pairs": {side: {label: p.record() for label, p in by_label.items()} for side, by_label in kept.items()},
         "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
         "commits": commits, "matrix": table}, indent=1, default=str) + "\n")
    for progress in progresses:
        progress.discard()
    print(f"(written to {args.markdown} and {args.markdown.with_suffix('.json')})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
