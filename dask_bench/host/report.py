"""`make report`: what asv's pages do not show, as PNG plots and an HTML page linked from them.

    python -m dask_bench.host.report [--results results] [--html html] [--repo .asv/distributed]

- as_completed throughput against worker count, one line per release, with ideal linear scaling
  (from each release's smallest worker count) drawn dashed, and the ProcessPoolExecutor baseline;
- the persist speedup (from-disk sum time over persisted sum time) per release;
- each dask figure beside its baseline (baselines.X.m beside <module>.X.m), for the newest release.

Only the plain environment is plotted (not the config A/B variants, which `make ab` compares).
"""

from __future__ import annotations

import argparse
import ast
import html
import math
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .results import (RESULTS_DIR, ResultsError, benchmark_info, format_params, format_value, label as result_label,  # noqa: E402
                      paired_baseline, require_machine, runs, same_sitting, SITTING_GAP_MS)
from . import chain, summary, verdict  # noqa: E402
from .. import policy  # noqa: E402
from .asv_config import LOCAL_RESULTS, REPO_ROOT, local_machine  # noqa: E402
from .cli import command  # noqa: E402
from .verdict import format_ratio  # noqa: E402

# Rates and ratios are derived from the time_ medians (the benchmarks time, the report divides).
THROUGHPUT = "as_completed.Throughput.time_resubmit_window"
BASELINE_THROUGHPUT = "baselines.Throughput.time_resubmit_window"
SUM_FROM_DISK = "arrays.ComputePersist.time_sum_from_disk"
SUM_PERSISTED = "arrays.ComputePersist.time_sum_persisted"


def suite_constant(module: str, name: str):
    """A literal constant of a module of the suite (dask_bench/<module>.py), read from its source:
    the host tools never import the suite (it imports distributed)."""
    tree = ast.parse((REPO_ROOT / "dask_bench" / f"{module}.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(target, "id", None) == name for target in node.targets):
            return ast.literal_eval(node.value)
    raise ResultsError(f"dask_bench/{module}.py no longer defines {name}: update report.suite_constant's callers")


def tasks_per_second(seconds: float) -> float:
    """as_completed throughput: the tasks a timed window completes (workloads.RESUBMIT_WINDOW) a second."""
    return suite_constant("workloads", "RESUBMIT_WINDOW") / seconds if seconds and seconds == seconds else math.nan
LINK_MARKER = "<!-- dask-bench report link -->"


def release_label(repo: Path, commit: str) -> str:
    proc = subprocess.run(["git", "-C", str(repo), "describe", "--tags", "--always", commit],
                          capture_output=True, text=True)
    return proc.stdout.strip() if proc.returncode == 0 and proc.stdout.strip() else commit[:8]


def plain_runs(results_dir: Path, machine: str | None):
    """The newest plain-environment run of each commit, oldest commit first."""
    newest = {}
    for run in runs(results_dir, machine):
        if run.env_vars:
            continue
        if run.commit not in newest or run.path.stat().st_mtime > newest[run.commit].path.stat().st_mtime:
            newest[run.commit] = run
    return sorted(newest.values(), key=lambda r: r.date)


def save_panels(fig, first_axis, title: str, out: Path) -> None:
    """A figure of side-by-side panels: one legend below them all, outside the data, and a title."""
    handles, names = first_axis.get_legend_handles_labels()
    columns = min(len(names), 4) or 1
    fig.legend(handles, names, loc="lower center", ncol=columns, fontsize=9, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.06 * math.ceil(len(names) / columns) + 0.02, 1, 1))
    fig.savefig(out, dpi=100)
    plt.close(fig)


def plot_throughput(ordered, labels, out: Path, machine: str) -> bool:
    """One panel per task duration: the newest release's tasks per second against worker count, the
    range of every earlier release as a band, ideal linear scaling from the newest's smallest count,
    and the ProcessPoolExecutor baseline; the legend below the panels, outside the data."""
    task_ms = sorted({p[1] for r in ordered for (n, p) in r.values if n == THROUGHPUT}, key=float)
    if not task_ms:
        return False

    def points(run, ms, name=THROUGHPUT):
        return dict(sorted((int(p[0]), tasks_per_second(v)) for (n, p), v in run.values.items()
                           if n == name and p[1] == ms and v == v))

    newest = next((r for r in reversed(ordered) if any(n == THROUGHPUT for n, _ in r.values)), ordered[-1])
    fig, axes = plt.subplots(1, len(task_ms), figsize=(5.5 * len(task_ms), 4.6), squeeze=False)
    for ax, ms in zip(axes[0], task_ms):
        others = [points(r, ms) for r in ordered if r is not newest]
        workers = sorted({w for p in others + [points(newest, ms)] for w in p})
        if any(others):
            low = [min((p[w] for p in others if w in p), default=math.nan) for w in workers]
            high = [max((p[w] for p in others if w in p), default=math.nan) for w in workers]
            ax.fill_between(workers, low, high, color="tab:blue", alpha=0.15, label="earlier releases (range)")
        mine = points(newest, ms)
        if mine:
            ax.plot(list(mine), list(mine.values()), marker="o", color="tab:blue", linewidth=2,
                    label=f"dask {labels[newest.commit]} (newest)")
            first = min(mine)
            ax.plot(list(mine), [mine[first] * w / first for w in mine], linestyle="--", color="tab:blue", alpha=0.6,
                    label="ideal linear scaling")
        base = points(next((r for r in reversed(ordered) if any(n == BASELINE_THROUGHPUT for n, _ in r.values)),
                           newest), ms, BASELINE_THROUGHPUT)
        if base:
            ax.plot(list(base), list(base.values()), marker="s", color="grey", linestyle=":",
                    label="ProcessPoolExecutor (no dask)")
        ax.set_title(f"{ms} ms tasks")
        ax.set_xlabel("workers")
        ax.set_ylabel("tasks per second (log)")
        ax.set_xticks(workers)
        ax.set_yscale("log")  # the baseline is often 10-100x faster: keep dask's lines readable
        ax.grid(alpha=0.3, which="both")
    save_panels(fig, axes[0][0], f"as_completed resubmission throughput (machine {machine})", out)
    return True


def plot_speedup(ordered, labels, out: Path, machine: str) -> bool:
    points = [(labels[r.commit], r.values.get((SUM_FROM_DISK, ()), float("nan")) / r.values.get((SUM_PERSISTED, ()), float("nan")))
              for r in ordered]
    points = [(label, v) for label, v in points if v == v]
    if not points:
        return False
    fig, ax = plt.subplots(figsize=(max(4, 1.4 * len(points) + 2), 3.8))
    ax.bar([p[0] for p in points], [p[1] for p in points], color="tab:green")
    ax.axhline(1, color="black", linewidth=0.8)
    for i, (_, v) in enumerate(points):
        ax.annotate(f"{v:.2f}x", (i, v), ha="center", va="bottom")
    ax.set_ylabel("from-disk sum time / persisted sum time")
    ax.set_title(f"persist speedup per release (machine {machine})")
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return True


def baseline_pairs(run, info):
    for (name, params), value in sorted(run.values.items()):
        paired = paired_baseline(run, name, params)
        if paired:
            yield name, params, value, paired[0], paired[1], info.get(name, {}).get("unit", "")


def plot_baselines(pairs, out: Path, machine: str) -> bool:
    pairs = [p for p in pairs if p[5] == "seconds" and p[2] == p[2] and p[4] == p[4]]
    if not pairs:
        return False
    fig, ax = plt.subplots(figsize=(9, 0.42 * len(pairs) + 1.5))
    labels = [f"{n.split('.', 1)[1]}({format_params(p)})" if p else n.split(".", 1)[1] for n, p, *_ in pairs]
    y = range(len(pairs))
    ax.barh([i + 0.2 for i in y], [p[2] for p in pairs], height=0.4, label="dask distributed")
    ax.barh([i - 0.2 for i in y], [p[4] for p in pairs], height=0.4, label="baseline", color="grey")
    ax.set_yticks(list(y), labels, fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel(f"seconds (log scale, lower is better), machine {machine}")
    ax.legend()
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return True


def page(ordered, labels, pairs, images, compared) -> str:
    newest = ordered[-1]
    rows = "".join(
        f"<tr><td>{html.escape(name)}{html.escape(f'({format_params(params)})' if params else '')}</td>"
        f"<td>{format_value(value, unit)}</td><td>{html.escape(base)}</td><td>{format_value(base_value, unit)}</td>"
        f"<td>{value / base_value:.3g}x</td></tr>"
        for name, params, value, base, base_value, unit in pairs if base_value)
    figures = "".join(f'<h2>{html.escape(title)}</h2><img src="{name}" alt="{html.escape(title)}">'
                      for name, title in images)
    releases = ", ".join(html.escape(labels[r.commit]) for r in ordered)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Dask distributed: scaling, persist, baselines</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto}}img{{max-width:100%}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}
td:first-child,td:nth-child(3){{text-align:left}}</style></head>
<body><p><a href="../index.html">&larr; asv report</a></p>
<h1>Dask distributed: scaling, persist and baselines</h1>
<p>Machine {html.escape(newest.machine)}; releases {releases}.</p>
{figures}
<h2>Each dask figure beside its baseline ({html.escape(labels[compared.commit])})</h2>
<table><tr><th>dask benchmark</th><th>dask</th><th>baseline</th><th>baseline value</th><th>dask / baseline</th></tr>
{rows}</table></body></html>
"""


def link_from_asv_index(html_dir: Path) -> None:
    index = html_dir / "index.html"
    text = index.read_text()
    if LINK_MARKER in text:
        return
    link = (f'{LINK_MARKER}<a href="report/index.html" id="dask-bench-report" style="position:fixed;right:1em;'
            'bottom:1em;z-index:9999;background:#fff;border:1px solid #888;padding:4px 8px">'
            'Scaling, persist and baselines report</a>')
    index.write_text(text.replace("<body>", "<body>" + link, 1))


def build(results_dir: Path, html_dir: Path, repo: Path, machine: str | None = None) -> Path:
    machine = require_machine(results_dir, machine)
    ordered = plain_runs(results_dir, machine)
    if not ordered:
        raise ResultsError(f"no results of machine {machine} in {results_dir}; run: make bench")
    if not (html_dir / "index.html").exists():
        raise SystemExit(f"report: no asv report in {html_dir}; run: make publish")
    labels = {r.commit: release_label(repo, r.commit) for r in ordered}
    out = html_dir / "report"
    out.mkdir(parents=True, exist_ok=True)
    # the newest commit whose run includes the baselines (a partial run may not)
    compared = next((r for r in reversed(ordered) if any(n.startswith("baselines.") for n in r.benchmarks)),
                    ordered[-1])
    pairs = list(baseline_pairs(compared, benchmark_info(results_dir)))
    images = []
    if plot_throughput(ordered, labels, out / "throughput.png", machine):
        images.append(("throughput.png", "as_completed throughput against worker count: is the newest release "
                        "(line) inside the band of the earlier ones, and how far below ideal linear scaling (dashed)?"))
    if plot_speedup(ordered, labels, out / "persist_speedup.png", machine):
        images.append(("persist_speedup.png", "persist speedup per release"))
    if plot_baselines(pairs, out / "baselines.png", machine):
        images.append(("baselines.png", f"dask beside its baseline ({labels[compared.commit]})"))
    journey_table = plot_journey(ordered, [labels[r.commit] for r in ordered], out / "journey.png", machine)
    extra = '<p><a href="history.html">History across releases: the paired verdicts between them</a></p>'
    if journey_table:
        extra = ('<h2>The journey of a task, phase by phase</h2><p>Where a task spends its time: each panel '
                 "on its own scale. A bar outside its whisker is a phase the newest release moved (a single "
                 "sitting's numbers: confirm with ./compare).</p><img src=\"journey.png\" alt=\"journey\">"
                 + journey_table + extra)
    (out / "index.html").write_text(page(ordered, labels, pairs, images, compared).replace(
        "</body>", extra + this_machine_today() + "</body>"))
    history_page(ordered, [labels[r.commit] for r in ordered], out, machine)
    link_from_asv_index(html_dir)
    return out / "index.html"


def this_machine_today() -> str:
    """This machine's own newest run (make bench), beside the committed history and never a point of
    it; with one line when the baselines say the machine itself moved. "" without such a run."""
    machine = local_machine()
    if not (LOCAL_RESULTS / machine / "machine.json").exists():
        return ""
    try:
        text = summary.summarize(LOCAL_RESULTS, machine)
    except (ResultsError, SystemExit):
        return ""
    return (f"<h2>This machine, today ({html.escape(machine)})</h2><p>The newest run of <code>make bench</code> "
            "here, stored apart from the committed history (its own machine in asv's pages): a sitting of its "
            f"own, not comparable with the history's numbers.</p><pre>{html.escape(text)}</pre>")


JOURNEY = "journey.TaskJourney.time_phase"


def plot_journey(ordered, labels: list[str], out: Path, machine: str) -> str | None:
    """One panel per workload, each on its own scale (a map task spends ~1 s, a round trip ~5 ms):
    per phase, the newest release's time as a bar and the range of every earlier release as a
    whisker; returns the HTML table of the same numbers (None when no run has the journey). The
    phases in the order asv stored them (the benchmark's parameters)."""
    data = {}  # (release, workload) -> {phase: seconds}
    for label_, run in zip(labels, ordered):
        for (name, params), m in run.measurements.items():
            if name == JOURNEY and m.ok:
                workload, phase = (p.strip("'") for p in params)
                data.setdefault((label_, workload), {})[phase] = m.value
    if not data:
        return None
    PHASES = list(dict.fromkeys(phase for phases in data.values() for phase in phases))  # noqa: N806
    workloads = sorted({w for _, w in data})
    fig, axes = plt.subplots(1, len(workloads), figsize=(6.5 * len(workloads), 4.6), squeeze=False)
    for ax, workload in zip(axes[0], workloads):
        releases = [r for r in labels if (r, workload) in data]
        newest, earlier = releases[-1], releases[:-1]
        values = [data[(newest, workload)].get(p, math.nan) * 1e3 for p in PHASES]
        ax.bar(range(len(PHASES)), values, color="tab:blue", label=f"{newest} (newest)")
        if earlier:
            low = [min(data[(r, workload)].get(p, math.nan) for r in earlier) * 1e3 for p in PHASES]
            high = [max(data[(r, workload)].get(p, math.nan) for r in earlier) * 1e3 for p in PHASES]
            ax.errorbar(range(len(PHASES)), [(a + b) / 2 for a, b in zip(low, high)],
                        yerr=[[(b - a) / 2 for a, b in zip(low, high)]] * 2, fmt="none", ecolor="black", capsize=4,
                        label=f"earlier releases ({earlier[0]} to {earlier[-1]}): range")
        ax.set_xticks(range(len(PHASES)), PHASES, rotation=30, ha="right", fontsize=8)
        ax.set_ylabel("ms per task (median)")
        ax.set_title(f"{workload}: {sum(v for v in values if v == v):.3g} ms per task, newest")
        ax.grid(alpha=0.3, axis="y")
    save_panels(fig, axes[0][0], f"the journey of a task, phase by phase (machine {machine})", out)
    bars = sorted(data, key=lambda k: (k[1], labels.index(k[0])))
    head = "".join(f"<th>{p}</th>" for p in PHASES)
    rows = "".join(f"<tr><td>{html.escape(w)}</td><td>{html.escape(r)}</td>"
                   + "".join(f"<td>{data[(r, w)].get(p, float('nan')) * 1e3:.3f}</td>" for p in PHASES)
                   + f"<td>{sum(data[(r, w)].values()) * 1e3:.3f}</td></tr>" for r, w in bars)
    return (f"<table><tr><th>workload</th><th>release</th>{head}<th>round trip</th></tr>{rows}</table>"
            "<p>Milliseconds per task: the median of each phase's samples (journey.TaskJourney).</p>")


def family_of(name: str) -> str:
    return name.split("(")[0].rsplit(".", 1)[0]


def sitting_days(ordered) -> list[str]:
    """The first day of each sitting the runs' measurements were taken in."""
    import datetime

    starts = sorted(m.started_at for run in ordered for m in run.measurements.values() if m.started_at)
    firsts = [t for k, t in enumerate(starts) if k == 0 or t - starts[k - 1] > SITTING_GAP_MS]
    return [datetime.datetime.fromtimestamp(t / 1000, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M") for t in firsts]


def sittings(points: list) -> list[list]:
    """A benchmark's (index, Measurement) points split where two neighbours are of two sittings."""
    runs = [points[:1]]
    for previous, point in zip(points, points[1:]):
        if same_sitting(previous[1], point[1]):
            runs[-1].append(point)
        else:
            runs.append([point])
    return runs


def series(ordered) -> dict[str, list[tuple[int, object]]]:
    """benchmark label -> [(index of the release in `ordered`, Measurement)] for every release that has it."""
    found: dict[str, list] = {}
    for i, run in enumerate(ordered):
        for (name, params), m in run.measurements.items():
            if m.ok and m.samples:
                found.setdefault(result_label(name, params), []).append((i, m))
    return found


def plot_family(family: str, ordered, labels: list[str], out: Path, machine: str) -> None:
    """Each benchmark of a family across releases, relative to its first release, with the
    interquartile range of its samples as a band; a line never joins points of two sittings."""
    fig, ax = plt.subplots(figsize=(max(6, 1.1 * len(labels) + 3), 4.2))
    for name, points in sorted(series(ordered).items()):
        if family_of(name) != family:
            continue
        first = points[0][1].value
        colour = None
        for run in sittings(points):
            xs = [i for i, _ in run]
            line, = ax.plot(xs, [m.value / first for _, m in run], marker="o", color=colour,
                            label=None if colour else name.split(".", 2)[-1])
            colour = line.get_color()
            quartiles = [np.percentile(m.samples, [25, 75]) / first for _, m in run]
            ax.fill_between(xs, [q[0] for q in quartiles], [q[1] for q in quartiles], color=colour, alpha=0.2)
    ax.set_xticks(range(len(labels)), labels, rotation=30, fontsize=8)
    ax.set_ylabel("median / first release's (lower is faster)")
    ax.grid(alpha=0.3)
    save_panels(fig, ax, f"{family} across releases, absolute asv timings (machine {machine}): not a verdict",
                out)


def paired_chain(out: Path, names: list[str] | None = None, folder: Path = chain.PAIRED_HISTORY) -> str:
    """The history's verdicts: per benchmark its chain of paired comparisons of consecutive releases
    (history-paired.png, one panel a benchmark: the ratio to the first release of each run of
    compared pairs, with its compounded band; a step marked where the paired verdict said slower or
    faster), and the table of those steps. The only marks of the history a maintainer can act on."""
    names = names or chain.releases()
    links = {label: row for label, row in chain.links(names, folder).items() if policy.counted(label)}
    if not links:
        return ("<h2>Verdicts between consecutive releases</h2><p>No release has been compared with its "
                "predecessor side by side yet: <code>make history</code>.</p>")
    fig, axes = plt.subplots(1, len(links), figsize=(4.2 * len(links), 4.2), squeeze=False, sharey=True)
    for ax, (label, row) in zip(axes[0], sorted(links.items())):
        points = chain.cumulative(row)
        for k, point in enumerate(points):
            if point is None:
                continue
            start = k if k == 0 or points[k - 1] is None else None
            if start is not None:
                ax.plot([k], [1.0], marker="o", color="tab:blue")
            previous = (1.0, 1.0, 1.0) if start is not None else points[k - 1]
            ax.plot([k, k + 1], [previous[0], point[0]], marker="o", color="tab:blue",
                    label="ratio to the run's first release" if k == 0 or start is not None else None)
            ax.fill_between([k, k + 1], [previous[1], point[1]], [previous[2], point[2]], color="tab:blue", alpha=0.15)
            if row[k].decision.verdict in (verdict.SLOWER, verdict.FASTER):
                ax.plot([k + 1], [point[0]], marker="o", markersize=14, fillstyle="none",
                        color="red" if row[k].decision.verdict == verdict.SLOWER else "green")
        ax.axhline(1.0, color="grey", linewidth=0.8)
        ax.set_xticks(range(len(names)), names, rotation=60, fontsize=7)
        ax.set_xlim(-0.5, len(names) - 0.5)
        ax.set_title(label.split(".", 2)[-1], fontsize=9)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("HEAD / first release (compounded 99% band)")
    save_panels(fig, axes[0][0], "the history as a chain of paired verdicts (circled: slower, red; faster, green)",
                out / "history-paired.png")
    found = chain.steps(links)
    rows = "".join(f"<tr><td>{html.escape(l.before)} &rarr; {html.escape(l.after)}</td><td>{html.escape(label)}</td>"
                   f"<td>{format_ratio(l.decision)}</td><td>{l.decision.verdict}</td></tr>"
                   for label, row in sorted(links.items()) for l in row if l in found)
    pairs = len(names) - 1
    compared = sum(any(row[k] for row in links.values()) for k in range(pairs))
    return ("<h2>Verdicts between consecutive releases</h2>"
            f"<p>{compared} of {pairs} consecutive pairs of releases compared side by side (<code>./compare A B</code>, "
            "kept in results/paired-history/): both measured at once, so a step here is never the machine "
            f"moving. {len(found)} step(s) called slower or faster:</p>"
            + (f"<table><tr><th>releases</th><th>benchmark</th><th>ratio [99%]</th><th>verdict</th></tr>{rows}</table>"
               if rows else "") + '<img src="history-paired.png" alt="the chain of paired verdicts">')


def history_page(ordered, labels: list[str], out: Path, machine: str, folder: Path = chain.PAIRED_HISTORY) -> Path:
    """The history: its verdicts (the chain of paired comparisons, paired_chain) first, then the
    absolute asv timings per family, each sitting on its own line, marked nowhere."""
    families = sorted({family_of(n) for n in series(ordered) if policy.counted(n)})
    figures = []
    for family in families:
        image = f"history-{family}.png"
        plot_family(family, ordered, labels, out / image, machine)
        figures.append(f'<h3>{html.escape(family)}</h3><img src="{image}" alt="{html.escape(family)}">')
    days = sitting_days(ordered)
    (out / "history.html").write_text(f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Dask distributed across releases ({html.escape(machine)})</title>
<style>body{{font-family:sans-serif;max-width:1200px;margin:2em auto}}img{{max-width:100%}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:3px 8px}}</style></head>
<body><p><a href="index.html">&larr; report</a> <a href="../index.html">asv report</a></p>
<h1>Dask distributed across releases</h1>
{paired_chain(out, folder=folder)}
<h2>Absolute timings, one sitting at a time</h2>
<p>What asv measured release by release on machine {html.escape(machine)}, in {len(days)} sitting(s)
({html.escape(", ".join(days))}): read absolute times here, not changes. Releases measured one after
another drift apart (on this kind of machine the same code runs up to 2.8x slower another day), so
nothing below is flagged and points of two sittings are never joined; the verdicts are the paired
ones above (<code>./compare A B</code>).</p>
{"".join(figures)}
</body></html>
""")
    return out / "history.html"


@command("report")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.report", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=RESULTS_DIR)
    parser.add_argument("--html", type=Path, default=REPO_ROOT / "html")
    parser.add_argument("--repo", type=Path, default=REPO_ROOT / ".asv" / "distributed")
    parser.add_argument("--machine")
    args = parser.parse_args(argv)
    print(f"report: {build(args.results, args.html, args.repo, args.machine)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
