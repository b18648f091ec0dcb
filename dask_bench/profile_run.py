"""Profile benchmarks of this suite where asv runs them: inside an asv environment, on one revision of
distributed. `make profile` (dask_bench.host.profile, on the host) builds the revision and calls this.

    python -m dask_bench.profile_run --list REGEX
    python -m dask_bench.profile_run --run LABEL --out DIR [--samples 3] [--seconds 5] [--py-spy PATH]

--list prints the asv names (parameters included) that REGEX matches, as JSON, and those a paired
verdict can measure grouped as one server measures them (drive.units), and their asv versions. --run drives that
benchmark's own class exactly as asv does (setup_cache, setup, the timed method, teardown and its
checks, on the class's own cluster shape) for a few samples, and records around them: dask's
performance report (BokehJS inline: readable offline), distributed's sampling profiler on the
scheduler, the workers' task threads and their event loops, py-spy (speedscope) of the client and
scheduler process and of each worker process, and cluster memory over time (MemorySampler). Then,
on the same cluster, the journey of a task (dask_bench.journey). Everything goes to DIR, with a
summary in DIR/profile.json that the host tool renders.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import dask
import distributed
from dask.utils import parse_timedelta

from . import cluster, journey
from .drive import Driven, benchmarks, matching, pairable, units

TOP_FUNCTIONS = 60  # per profiled role, in the summary


# -- distributed's profiler: sampled time per function -----------------------------------------

def short_path(filename: str) -> str:
    """A source file as a package path (distributed/worker.py, asyncio/base_events.py): the same function
    has the same name in every environment, so two revisions' profiles line up."""
    return re.sub(r"^.*/(?:site-packages|lib/python3\.\d+)/", "", filename or "?")


def flatten(state: dict, interval: float, calls: int) -> list[dict]:
    """Sampled seconds per call of the benchmark, per function: `self` where the function was on top
    of the stack, `total` where it was anywhere on it (counted once per stack, for recursion)."""
    functions: dict[str, dict] = {}

    def walk(node, on_stack: frozenset):
        description = node.get("description") or {}
        ident = f"{description.get('name', '?')} ({short_path(description.get('filename', '?'))})"
        children = node.get("children", {}).values()
        own = node.get("count", 0) - sum(c.get("count", 0) for c in children)
        entry = functions.setdefault(ident, {"function": ident, "self": 0.0, "total": 0.0})
        entry["self"] += own * interval / calls
        if ident not in on_stack:
            entry["total"] += node.get("count", 0) * interval / calls
        for child in children:
            walk(child, on_stack | {ident})

    for child in state.get("children", {}).values():
        walk(child, frozenset())
    return sorted(functions.values(), key=lambda f: -f["self"])[:TOP_FUNCTIONS]


# -- py-spy --------------------------------------------------------------------------------------

def shorten_speedscope(path: Path) -> None:
    """py-spy's frames with package paths (short_path), so two environments' profiles line up."""
    data = json.loads(path.read_text())
    for frame in data["shared"]["frames"]:
        frame["file"] = short_path(frame.get("file"))
    path.write_text(json.dumps(data))


class PySpy:
    """py-spy record of some processes (speedscope format) for as long as the block runs."""

    def __init__(self, executable: str | None, targets: dict[str, int], out: Path):
        self.executable, self.targets, self.out = executable, targets, out
        self.procs: dict[str, subprocess.Popen] = {}
        self.notes: dict[str, str] = {}

    def __enter__(self):
        if not self.executable:
            self.notes = {role: "py-spy is not installed (pip install py-spy)" for role in self.targets}
            return self
        for role, pid in self.targets.items():
            path = self.out / f"py-spy-{role}.speedscope.json"
            self.procs[role] = subprocess.Popen(
                [self.executable, "record", "--pid", str(pid), "--rate", "200", "--format", "speedscope",
                 "--output", str(path), "--nonblocking"],
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)  # py-spy attaches asynchronously
        return self

    def __exit__(self, *exc):
        for role, proc in self.procs.items():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)  # py-spy writes its file on SIGINT
            try:
                _, err = proc.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            path = self.out / f"py-spy-{role}.speedscope.json"
            if path.exists() and path.stat().st_size > 0:
                shorten_speedscope(path)
                self.notes[role] = path.name
            else:
                reason = " ".join((err or "").split())[-200:] or f"exit {proc.returncode}"
                self.notes[role] = f"py-spy could not profile this process here: {reason}"
        return False


# -- one benchmark -------------------------------------------------------------------------------

def _self_contained(page: Path) -> None:
    """dask's report inlines BokehJS but links its favicon from docs.dask.org: drop every <link> to
    another host, so opening the page requests nothing from outside."""
    text = page.read_text()
    page.write_text(re.sub(r"<link\b[^>]*\bhref=[\"']https?://[^>]*>", "", text))


def _profiler_notes(functions: dict) -> dict:
    """Why a role of distributed's profiler has no samples, where the reason is known."""
    notes = {}
    for role, rows in functions.items():
        if rows:
            continue
        if "event loop" in role and sys.version_info[:2] == (3, 11):
            # distributed/core.py: Server profiles its event loop except on Python 3.11
            notes[role] = ("distributed does not profile event loops on Python 3.11 (distributed/core.py); "
                           "py-spy's profiles above cover them")
        else:
            notes[role] = "no samples: the tasks are too short for a 10 ms sampling interval; see py-spy's profiles"
    return notes


def _memory_series(sampler) -> dict:
    frame = sampler.to_pandas(align=True)
    if frame.empty:
        return {"seconds": [], "bytes": []}
    column = frame.columns[0]
    return {"seconds": [float(t.total_seconds()) for t in frame.index], "bytes": [float(v) for v in frame[column]]}


def run_one(label: str, out: Path, samples: int, seconds: float, py_spy: str | None) -> dict:
    driven = Driven(label)  # the benchmark's own checks run in every sample: a wrong answer fails the profile
    bench, method, method_name, one_sample = driven.bench, driven.method, driven.method_name, driven.sample

    one_sample()  # warm: the cluster starts here, as in asv's warm-up
    session = getattr(bench, "session", None)
    client = session.client if session is not None else None
    summary = {"benchmark": label, "distributed": distributed.__version__, "dask": dask.__version__,
               "python": platform.python_version(), "machine": platform.node(),
               "shape": str(session.shape) if session else "no cluster (a baseline without dask)",
               "kind": "track" if method_name.startswith("track_") else "time",
               "unit": getattr(method, "unit", "seconds")}
    roles = {"client-scheduler" if client and not session.shape.scheduler_process else "client": os.getpid()}
    if client is not None:
        if session.shape.scheduler_process:
            roles["scheduler"] = client.run_on_scheduler(os.getpid)
        if session.shape.processes:
            for k, pid in enumerate(sorted(client.run(os.getpid).values())):
                roles[f"worker-{k + 1}"] = pid
    values = []
    interval = parse_timedelta(dask.config.get("distributed.worker.profile.interval"), default="ms")
    sampler = None
    with contextlib.ExitStack() as recording:
        if client is not None:
            from distributed import performance_report
            from distributed.diagnostics import MemorySampler

            sampler = MemorySampler()
            # mode="inline": BokehJS inside the page, which then renders offline (no CDN)
            recording.enter_context(performance_report(filename=str(out / "performance-report.html"), mode="inline"))
            recording.enter_context(sampler.sample("cluster", client=client, measure="process", interval=0.1))
        # py-spy records the samples only: not the report's rendering (bokeh, in this process) on exit
        with PySpy(py_spy, roles, out) as spy:
            started = time.time()
            while len(values) < samples or (time.time() - started < seconds and len(values) < 100):
                values.append(one_sample())
    if client is not None:
        _self_contained(out / "performance-report.html")
        # The profiles are kept in cycles (distributed.worker.profile.cycle, 1 s) stamped when they
        # end; everything since the cycle before the samples, the current one included (no stop).
        cycle = parse_timedelta(dask.config.get("distributed.worker.profile.cycle"), default="ms")
        since = started - cycle
        calls = len(values)  # one call of the timed method per sample here
        summary["functions"] = {
            "scheduler event loop": flatten(client.profile(start=since, scheduler=True), interval, calls),
            "worker task threads": flatten(client.profile(start=since), interval, calls),
            "worker event loops": flatten(client.profile(start=since, server=True), interval, calls),
        }
        summary["functions_notes"] = _profiler_notes(summary["functions"])
        summary["memory"] = _memory_series(sampler)
        summary["performance_report"] = "performance-report.html"
    summary["py_spy"] = spy.notes
    summary["samples"] = values
    summary["median"] = statistics.median(values)
    if client is not None:
        summary["journey"] = _journeys(session)
    return summary


def _journeys(session) -> dict:
    """The mean journey of a submit round trip (20, each after a pause) and of a map's 1,000 tasks (3 maps)."""
    client, found = session.client, {}
    offsets = journey.external_offsets(client, session.workers) if session.workers is not None else None
    for workload, count, repeat in (("submit", 4, 5), ("map", 3, 1)):
        try:
            rows = journey.collect(client, workload, count, repeat, pause=lambda: 0.03, offsets=offsets)
        except (RuntimeError, AssertionError) as exc:
            found[workload] = {"error": " ".join(str(exc).split())[:300]}
            continue
        found[workload] = {phase: statistics.mean(r[phase] for r in rows) for phase in journey.PHASES}
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.profile_run", description=__doc__.split("\n\n")[0])
    what = parser.add_mutually_exclusive_group(required=True)
    what.add_argument("--list", metavar="REGEX")
    what.add_argument("--run", metavar="LABEL")
    parser.add_argument("--out", type=Path)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--py-spy", dest="py_spy")
    args = parser.parse_args(argv)
    if args.list is not None:
        matched, entries = matching(args.list), benchmarks()
        print(json.dumps({"matched": matched, "all": list(entries),
                          "units": units([label for label in matched if pairable(label, entries[label])]),
                          "versions": {label: entries[label][0].version for label in matched}}))
        return 0
    if args.out is None:
        parser.error("--run needs --out DIR")
    if args.run not in benchmarks():
        print(f"profile_run: error: no benchmark {args.run!r}", file=sys.stderr)
        return 1
    # the journey reads every transition of a 1,000-task map from the logs (set before the cluster starts)
    dask.config.set({"distributed.admin.low-level-log-length": journey.LOG_LENGTH})
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        summary = run_one(args.run, args.out, args.samples, args.seconds, args.py_spy)
    except (NotImplementedError, AssertionError) as exc:
        print(f"profile_run: error: {args.run}: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return 1
    finally:
        cluster.close()
    (args.out / "profile.json").write_text(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
