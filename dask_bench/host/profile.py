"""`make profile` and `make profile-diff`: why a benchmark takes the time it takes, on one revision or two.

    python -m dask_bench.host.profile BENCH [--rev REV]               -> profiles/<benchmark>/<version>/index.html
    python -m dask_bench.host.profile BENCH --base REV --head REV     -> and profiles/<benchmark>/diff-<A>-<B>.html

BENCH is a regular expression over the suite's asv names, parameters included (e.g.
"SubmitLatency.time_submit_result\\('processes'\\)"). For each benchmark it matches, the revision is
built into its asv environment (BASE and a single REV in the configuration's own environment, HEAD in
`make compare`'s second one), and dask_bench.profile_run drives the benchmark's own class there, on
its own cluster shape. The page links dask's performance report (self-contained), py-spy profiles
(speedscope), and shows distributed's sampled profiles, the journey of a task phase by phase and
cluster memory over time. A diff page shows the phases that changed and the functions whose sampled
time per call changed most. Every page is self-contained: nothing is loaded from outside the page.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from . import asvapi
from .asv_config import MAIN_CONFIG, OUT_DIR
from .cli import ToolError, command
from .revisions import WORK_DIR, driver, environment_python, installed, matched, resolve, side_config
from .results import format_value

PROFILES_DIR = OUT_DIR / "profiles"
SHOWN_FUNCTIONS = 15


class ProfileError(ToolError):
    pass


# -- the environments --------------------------------------------------------------------------

def _any_python(config: Path, commit: str) -> Path:
    try:
        return environment_python(config)
    except ToolError:
        return installed(config, commit)


def slug(label: str) -> str:
    """A directory name for an asv label: futures.SubmitLatency.time_submit_result-processes."""
    return re.sub(r"[^\w.]+", "-", label).strip("-")


def profile_one(python: Path, label: str, commit: str, out_root: Path, samples: int, seconds: float,
                suffix: str = "", log=print) -> Path:
    """Profile one benchmark; its page's directory profiles/<benchmark>/<version><suffix>/."""
    out_root.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".profile-", dir=out_root))
    try:
        log(f"[profile] {label} at {commit[:8]}", flush=True)
        py_spy = shutil.which("py-spy") or Path(sys.executable).parent / "py-spy"
        proc = driver(python, "--run", label, "--out", str(scratch), "--samples", str(samples),
                      "--seconds", str(seconds), *(["--py-spy", str(py_spy)] if Path(py_spy).exists() else []))
        if proc.returncode != 0:
            raise ProfileError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else
                               f"profiling {label} failed (exit {proc.returncode})")
        summary = json.loads((scratch / "profile.json").read_text())
        summary["commit"] = commit
        for role, note in summary.get("py_spy", {}).items():
            if note.endswith(".json"):
                summary.setdefault("functions", {})[f"{role} (py-spy)"] = spy_functions(
                    scratch / note, len(summary["samples"]))
        target = out_root / slug(label) / (summary["distributed"] + suffix)
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        scratch.rename(target)
        (target / "profile.json").write_text(json.dumps(summary, indent=1))
        (target / "index.html").write_text(page(summary))
        log(f"[profile] {target / 'index.html'}", flush=True)
        return target
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def spy_functions(path: Path, calls: int, top: int = 60) -> list[dict]:
    """py-spy's on-CPU samples (speedscope, its paths shortened where they were recorded:
    profile_run.shorten_speedscope) as seconds per call of the benchmark, per function: `self` where
    it was the innermost frame, `total` where it was anywhere on the stack (once per stack)."""
    data = json.loads(path.read_text())
    frames = [f"{f['name']} ({f.get('file') or '?'})" for f in data["shared"]["frames"]]
    functions: dict[str, dict] = {}
    for thread in data["profiles"]:
        for stack, weight in zip(thread["samples"], thread["weights"]):
            names = [frames[i] for i in stack]
            for name in set(names):
                functions.setdefault(name, {"function": name, "self": 0.0, "total": 0.0})["total"] += weight / calls
            if names:
                functions.setdefault(names[-1], {"function": names[-1], "self": 0.0, "total": 0.0})["self"] += \
                    weight / calls
    return sorted(functions.values(), key=lambda f: -f["self"])[:top]


# -- pages ---------------------------------------------------------------------------------------

STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:70em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:right}
td:first-child,th:first-child{text-align:left}code{font-size:90%}.up{color:#b00}.down{color:#070}
.bar{display:flex;height:1.6em;width:60em;border:1px solid #999}.bar div{height:100%}
.note{color:#555}"""
COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1")


def _html(title: str, body: str) -> str:
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{STYLE}</style></head><body>{body}</body></html>\n")


def _seconds(value: float) -> str:
    return format_value(value, "seconds")


def _journey_section(journeys: dict) -> str:
    parts = ["<h2>The journey of a task</h2><p class='note'>Measured after the samples, on the same cluster: "
             "mean per task of 20 submit().result() round trips and of the 1,000 tasks of 3 maps (dask_bench.journey).</p>"]
    for workload, phases in journeys.items():
        if "error" in phases:
            parts.append(f"<p>{workload}: not measured ({html.escape(phases['error'])})</p>")
            continue
        total = sum(phases.values())
        top = max(phases, key=phases.get)
        parts.append(f"<h3>{workload}: {_seconds(total)} per task, dominated by {top}</h3><div class='bar'>")
        parts += [f"<div title='{p} {_seconds(v)}' style='width:{100 * v / total:.2f}%;background:{c}'></div>"
                  for (p, v), c in zip(phases.items(), COLOURS)]
        parts.append("</div><table><tr><th>phase</th><th>time</th><th>share</th></tr>")
        parts += [f"<tr><td><span style='color:{c}'>■</span> {p}</td><td>{_seconds(v)}</td><td>{100 * v / total:.1f}%</td></tr>"
                  for (p, v), c in zip(phases.items(), COLOURS)]
        parts.append("</table>")
    return "".join(parts)


def _memory_svg(memory: dict) -> str:
    xs, ys = memory.get("seconds", []), memory.get("bytes", [])
    if len(xs) < 2:
        return "<p>too few memory samples to draw</p>"
    width, height, top = 800, 200, max(ys) or 1
    points = " ".join(f"{40 + (width - 50) * x / (xs[-1] or 1):.1f},{height - 20 - (height - 30) * y / top:.1f}"
                      for x, y in zip(xs, ys))
    return (f"<svg width='{width}' height='{height}' role='img'><polyline fill='none' stroke='#4e79a7' "
            f"stroke-width='2' points='{points}'/><text x='40' y='12' font-size='12'>peak {top / 2**20:.0f} MiB</text>"
            f"<text x='{width - 60}' y='{height - 4}' font-size='12'>{xs[-1]:.1f} s</text>"
            f"<line x1='40' y1='{height - 20}' x2='{width - 10}' y2='{height - 20}' stroke='#999'/></svg>")


def _functions_section(functions: dict, notes: dict) -> str:
    parts = ["<h2>Where the time goes: sampled profiles</h2><p class='note'>Sampled time per call of the "
             "benchmark: distributed's own profiler (distributed.worker.profile.interval) and py-spy's on-CPU "
             "samples of each process (roles marked py-spy). Self: the function on top of the stack; total: "
             "anywhere on it.</p>"]
    for role, rows in functions.items():
        parts.append(f"<h3>{html.escape(role)}</h3><table><tr><th>function</th><th>self</th><th>total</th></tr>")
        parts += [f"<tr><td><code>{html.escape(r['function'])}</code></td><td>{_seconds(r['self'])}</td>"
                  f"<td>{_seconds(r['total'])}</td></tr>" for r in rows[:SHOWN_FUNCTIONS]]
        why = html.escape(notes.get(role, "no samples"))
        parts.append("</table>" if rows else f"<tr><td colspan=3>{why}</td></tr></table>")
    return "".join(parts)


def page(s: dict) -> str:
    samples = ", ".join(_seconds(v) if s["kind"] == "time" else f"{v:g}" for v in s["samples"])
    median = _seconds(s["median"]) if s["kind"] == "time" else f"{s['median']:g} {s['unit']}"
    links = []
    if s.get("performance_report"):
        links.append(f"<li><a href='{s['performance_report']}'>dask performance report</a> (task stream, "
                     "worker and scheduler profiles, bandwidth; BokehJS inline)</li>")
    for role, note in s.get("py_spy", {}).items():
        links.append(f"<li>py-spy, {html.escape(role)}: " + (f"<a href='{html.escape(note)}'>{html.escape(note)}</a> "
                     "(open in speedscope)" if note.endswith(".json") else html.escape(note)) + "</li>")
    links.append("<li><a href='profile.json'>profile.json</a> (everything on this page)</li>")
    body = [f"<h1>{html.escape(s['benchmark'])}</h1>",
            f"<p>distributed {s['distributed']} (commit <code>{s['commit'][:12]}</code>), dask {s['dask']}, "
            f"Python {s['python']}; machine {html.escape(s['machine'])}; cluster: {html.escape(s['shape'])}.</p>",
            f"<p>Median {median} over {len(s['samples'])} samples (the benchmark's own setup, timed call and "
            f"checks; timed while profiled, so slower than asv's numbers): {samples}.</p>",
            "<ul>" + "".join(links) + "</ul>"]
    if "journey" in s:
        body.append(_journey_section(s["journey"]))
    if "memory" in s:
        body.append("<h2>Cluster memory over time</h2><p class='note'>Process memory of all workers "
                    "(distributed.diagnostics.MemorySampler, every 0.1 s) while the samples ran.</p>")
        body.append(_memory_svg(s["memory"]))
    if "functions" in s:
        body.append(_functions_section(s["functions"], s.get("functions_notes", {})))
    return _html(f"profile: {s['benchmark']} on distributed {s['distributed']}", "".join(body))


def _change_row(name: str, before: float, after: float) -> str:
    """A table row: name, both times, and the change coloured by its direction."""
    return (f"<tr><td>{name}</td><td>{_seconds(before)}</td><td>{_seconds(after)}</td><td class="
            f"'{'up' if after > before else 'down'}'>{'+' if after >= before else '−'}{_seconds(abs(after - before))}"
            "</td></tr>")


def diff_page(a: dict, b: dict, link_a: str, link_b: str) -> str:
    ratio = b["median"] / a["median"] if a["median"] else float("nan")
    body = [f"<h1>{html.escape(a['benchmark'])}: {a['distributed']} → {b['distributed']}</h1>",
            f"<p>Median while profiled: <a href='{link_a}'>{a['distributed']}</a> {_seconds(a['median'])}, "
            f"<a href='{link_b}'>{b['distributed']}</a> {_seconds(b['median'])} (ratio {ratio:.2f}; profiled "
            "timings are indicative, the verdict is make compare's).</p>"]
    for workload in a.get("journey", {}):
        pa, pb = a["journey"][workload], b.get("journey", {}).get(workload, {})
        if "error" in pa or "error" in pb or not pb:
            continue
        rows = sorted(pa, key=lambda p: -abs(pb[p] - pa[p]))  # the phases profile_run measured
        body.append(f"<h2>Journey of a task ({workload}): phases by change</h2><table><tr><th>phase</th>"
                    f"<th>{a['distributed']}</th><th>{b['distributed']}</th><th>change</th></tr>")
        body += [_change_row(p, pa[p], pb[p]) for p in rows]
        body.append(f"<tr><td>round trip</td><td>{_seconds(sum(pa.values()))}</td><td>{_seconds(sum(pb.values()))}"
                    "</td><td></td></tr></table>")
    for role in a.get("functions", {}):
        fa = {r["function"]: r["self"] for r in a["functions"][role]}
        fb = {r["function"]: r["self"] for r in b.get("functions", {}).get(role, [])}
        changed = sorted(set(fa) | set(fb), key=lambda f: -abs(fb.get(f, 0) - fa.get(f, 0)))[:SHOWN_FUNCTIONS]
        body.append(f"<h2>{html.escape(role)}: functions whose sampled self time per call changed most</h2>"
                    f"<table><tr><th>function</th><th>{a['distributed']}</th><th>{b['distributed']}</th><th>change</th></tr>")
        body += [_change_row(f"<code>{html.escape(f)}</code>", fa.get(f, 0), fb.get(f, 0)) for f in changed]
        body.append("</table>")
    return _html(f"profile diff: {a['benchmark']}", "".join(body))


def profile_diff(label: str, base: tuple[Path, str], head: tuple[Path, str], out_root: Path, samples: int,
                 seconds: float, log=print) -> Path:
    """Profile `label` on BASE and HEAD ((python, commit) each); the diff page's path."""
    dir_a = profile_one(base[0], label, base[1], out_root, samples, seconds, log=log)
    dir_b = profile_one(head[0], label, head[1], out_root, samples, seconds,
                        suffix="-head" if base[1] == head[1] else "", log=log)
    a, b = (json.loads((d / "profile.json").read_text()) for d in (dir_a, dir_b))
    target = dir_a.parent / f"diff-{dir_a.name}-{dir_b.name}.html"
    target.write_text(diff_page(a, b, f"{dir_a.name}/index.html", f"{dir_b.name}/index.html"))
    log(f"[profile] {target}", flush=True)
    return target


def profile_regressions(labels: list[str], sides: list[tuple[Path, str]], relative_to: Path, seconds: float,
                        out: Path = PROFILES_DIR) -> str:
    """The why beside a verdict: each slower benchmark profiled on both sides ((python, commit) of
    the environments just measured), as markdown links to the diff pages."""
    if not labels:
        return "\nProfiles: nothing slower, nothing profiled.\n"
    lines = ["", "Profiles of the slower benchmarks (BASE against HEAD):", ""]
    for name in labels:
        try:
            page = profile_diff(name, sides[0], sides[1], out, samples=3, seconds=seconds)
        except ToolError as exc:
            lines.append(f"- {name}: not profiled ({exc})")
            continue
        lines.append(f"- [{name}]({os.path.relpath(page.resolve(), relative_to.resolve())})")
    return "\n".join(lines) + "\n"


# -- command line --------------------------------------------------------------------------------

@command("profile")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("bench", help="a regular expression over the benchmarks' asv names")
    parser.add_argument("--rev", default="main", help="the revision to profile (default: main, the newest)")
    parser.add_argument("--base", help="with --head: profile both and write the diff page")
    parser.add_argument("--head")
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    parser.add_argument("--out", type=Path, default=PROFILES_DIR)
    parser.add_argument("--workdir", type=Path, default=WORK_DIR,
                        help="where HEAD's asv environment is (default: make compare's, .asv/compare)")
    parser.add_argument("--samples", type=int, default=3, help="at least this many samples (default 3)")
    parser.add_argument("--seconds", type=float, default=5.0, help="and samples for at least this long (default 5)")
    args = parser.parse_args(argv)
    if bool(args.base) != bool(args.head):
        raise ProfileError("give both BASE and HEAD (make profile-diff BASE=<rev> HEAD=<rev> BENCH=<regex>)")
    if args.samples < 1 or args.seconds < 0:
        raise ProfileError("--samples must be 1 or more and --seconds 0 or more")
    conf = asvapi.config(args.config)
    args.out.mkdir(parents=True, exist_ok=True)
    revs = (args.base, args.head) if args.base else (args.rev,)
    commits = [resolve(conf, rev) for rev in revs]
    configs = [args.config, side_config("results", args.config, args.workdir, "head")][:len(commits)]
    # the names first (any build of the suite's environment lists them), so a wrong BENCH fails fast
    labels = matched(_any_python(args.config, commits[0]), args.bench)
    pythons = [installed(config, commit) for config, commit in zip(configs, commits)]
    for label in labels:
        if args.base:
            profile_diff(label, (pythons[0], commits[0]), (pythons[1], commits[1]), args.out, args.samples,
                         args.seconds)
        else:
            profile_one(pythons[0], label, commits[0], args.out, args.samples, args.seconds)
    return 0


if __name__ == "__main__":
    sys.exit(main())
