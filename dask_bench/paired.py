"""`make paired BASE=<rev> HEAD=<rev> BENCH=<regex>`: two revisions measured side by side, at once.

    python -m dask_bench.paired BASE HEAD [-b REGEX] [--blocks 60] [--block-seconds 0.5] [--factor 1.05]

Why: on this machine a cluster's speed drifts with the machine over tens of seconds to minutes (two
clusters running at the same time in one process agree within their sampling error, while clusters
started one after another differ by 5-15%: `make compare`'s "cluster noise"). `make compare`
alternates whole asv runs, minutes apart, so that drift is its noise floor. Here both revisions run
at the same time, each in its own asv environment (BASE in the configuration's, HEAD in make
compare's second one), each one benchmark on its own warm cluster (dask_bench.drive --serve, driving
the benchmark's own class; the journey's phases together, one journey a sample). The tool
alternates short blocks between them (`--block-seconds` of samples each, ABBA order) and judges the
pairs of neighbouring blocks (verdict.decide_paired): the
drift moves both blocks of a pair alike and cancels in their ratio. Time benchmarks only; nothing is
written to results/ (asv does not record this mode); the table goes to paired.md.

Exit status: 0 no regression, 1 a regression, 2 an error (as ./compare).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path

from . import asv_run as asv_runner, asvapi, verdict
from .asv_config import MAIN_CONFIG, REPO_ROOT
from .compare import NOT_COUNTED, WORK_DIR, CompareError, check_factor, prebuild, resolve, side_config
from .profile import ProfileError, environment_python, matched
from .results import format_value

DEFAULT_BENCH = r"^futures\.SubmitLatency\.time_(submit_result|map_gather)"
PAIRED_FACTOR = 1.05  # its intervals are narrow enough for a 5% minimum effect (make calibrate PAIRED=1)
# 60 blocks of 0.5 s: what the paired calibration needed for a 5% detectable effect on the submit
# round trip (30 were enough for map/gather); a submit pair then takes about 2 minutes
DEFAULT_BLOCKS = 60
REPLY_DEADLINE = 300.0  # seconds a server may take to start its cluster or to measure one block


class PairedError(Exception):
    pass


class Server:
    """One unit of benchmarks (drive.units: one benchmark, or the journey's phases) served by
    dask_bench.drive in one asv environment: a warm cluster, samples on request."""

    def __init__(self, python: Path, labels: list[str], log: Path):
        self.labels, self.log = labels, log
        self.label = labels[0] if len(labels) == 1 else f"{labels[0]} and {len(labels) - 1} more"
        with log.open("w") as stderr:  # the child keeps its own copy of the file
            self.proc = subprocess.Popen([str(python), "-m", "dask_bench.drive", "--serve", *labels], cwd=REPO_ROOT,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                         text=True, start_new_session=True)

    def _reply(self) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], REPLY_DEADLINE)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            tail = " ".join(self.log.read_text().split()[-40:]) if self.log.exists() else ""
            state = "no reply within the deadline" if not ready else f"it ended (exit {self.proc.poll()})"
            raise PairedError(f"{self.label}: {state}: {tail[-300:]}")
        return json.loads(line)

    def ready(self) -> None:
        self._reply()

    def block(self, seconds: float) -> dict[str, list[float]]:
        """Samples for at least `seconds` (one at least), one after another on the warm cluster."""
        samples: dict[str, list[float]] = {label: [] for label in self.labels}
        started = time.perf_counter()
        while not samples[self.labels[0]] or time.perf_counter() - started < seconds:
            self.proc.stdin.write("1\n")
            self.proc.stdin.flush()
            for label, values in self._reply()["samples"].items():
                samples[label] += values
        return samples

    def finish(self) -> None:
        """Ask it to end: its sample in progress completes, then it closes its cluster."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def close(self) -> None:
        self.finish()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pass
        asv_runner.stop_tree(self.proc.pid)  # whatever is left of its tree (the cluster's processes)
        self.proc.stdout.close()


def measure(pythons: tuple[Path, Path], labels: list[str], blocks: int, seconds: float, logs: Path,
            log=print) -> dict[str, tuple[list, list]]:
    """{label: (BASE blocks, HEAD blocks)} of one unit (drive.units); both servers run throughout."""
    name = re.sub(r"[^\w.()',-]+", "_", labels[0])[:120]
    servers = [Server(python, labels, logs / f"{side}-{name}.log") for python, side in zip(pythons, ("base", "head"))]
    try:
        for server in servers:
            server.ready()
        measured: list[list[dict]] = [[], []]
        for b in range(blocks):
            for side in ((0, 1) if b % 2 == 0 else (1, 0)):  # ABBA: neither side always goes first
                measured[side].append(servers[side].block(seconds))
        by_label = {label: tuple([block[label] for block in side] for side in measured) for label in labels}
        for label, (before, after) in by_label.items():
            log(f"  {label}: {blocks} blocks a side, {sum(map(len, before))} + {sum(map(len, after))} samples",
                flush=True)
        return by_label
    finally:
        for server in servers:  # both end at once
            server.finish()
        for server in servers:
            server.close()


def pairable_units(labels: list[str]) -> list[list[str]]:
    """The labels that can be paired (dask_bench.drive.pairable), read from the suite's own classes,
    grouped by what one server measures (drive.units)."""
    from .drive import benchmarks, pairable, units

    entries = benchmarks()
    return units([label for label in labels if label in entries and pairable(label, entries[label])])


def measure_all(pythons: tuple[Path, Path], units: list[list[str]], blocks: int, seconds: float,
                logs: Path) -> dict[str, tuple[list, list]]:
    """Every unit, one after another: {label: (BASE blocks, HEAD blocks)}."""
    measured = {}
    for unit in units:
        measured.update(measure(pythons, unit, blocks, seconds, logs))
    return measured


def render(rows: list[tuple[str, list, list, verdict.Decision]], base: str, head: str, factor: float,
           blocks: int, seconds: float) -> str:
    lines = [f"# Paired: {base} (BASE) and {head} (HEAD), side by side",
             "",
             f"Machine {asvapi.host_machine()}; {blocks} blocks of {seconds:g} s a side, alternating (ABBA); "
             f"ratio = HEAD / BASE of neighbouring blocks' medians (geometric mean), {verdict.CONFIDENCE:.0%} "
             f"interval; factor {factor:g}. +: slower, -: faster, ~: beyond the factor but not significant.",
             "",
             "| | benchmark | BASE | HEAD | ratio [interval] | ± | p | verdict |",
             "|---|---|---:|---:|---|---:|---:|---|"]
    for label, before, after, d in rows:
        mark = {"regression": "+", "improvement": "-", "insignificant": "~"}.get(d.verdict, "")
        med = [format_value(statistics.median(s for block in side for s in block), "seconds") for side in (before, after)]
        half = max(d.high / d.ratio, d.ratio / d.low) - 1 if not math.isnan(d.low) else math.nan
        p = f"{d.p:.2g}" if not math.isnan(d.p) else ""
        lines.append(f"| {mark} | `{label}` | {med[0]} | {med[1]} | {verdict.format_ratio(d)} | {half:.1%} | {p} | "
                     f"{d.verdict} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.paired", description=__doc__.split("\n\n")[0])
    parser.add_argument("base")
    parser.add_argument("head")
    parser.add_argument("--bench", "-b", default=DEFAULT_BENCH, help=f"benchmark regex (default {DEFAULT_BENCH})")
    parser.add_argument("--blocks", type=int, default=DEFAULT_BLOCKS, help=f"blocks a side (default {DEFAULT_BLOCKS})")
    parser.add_argument("--block-seconds", type=float, default=0.5, help="seconds of samples a block (default 0.5)")
    parser.add_argument("--factor", type=float, default=PAIRED_FACTOR, help=f"minimum effect (default {PAIRED_FACTOR})")
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    parser.add_argument("--workdir", type=Path, default=WORK_DIR,
                        help="where HEAD's asv environment is (default: make compare's, .asv/compare)")
    parser.add_argument("--markdown", type=Path, default=REPO_ROOT / "paired.md")
    args = parser.parse_args(argv)
    try:
        check_factor(args.factor)
        if args.blocks < verdict.MIN_PAIRS or args.block_seconds < 0:
            raise PairedError(f"--blocks must be at least {verdict.MIN_PAIRS} and --block-seconds 0 or more")
        conf = asvapi.config(args.config)
        commits = [resolve(conf, rev) for rev in (args.base, args.head)]
        configs = [args.config, side_config("results", args.config, args.workdir, "head")]
        for config, commit in zip(configs, commits):
            print(f"[build] {commit[:8]}", flush=True)
            prebuild(config, commit)
        pythons = tuple(environment_python(config) for config in configs)
        units = pairable_units(matched(pythons[1], args.bench))
        if not units:
            raise PairedError(f"BENCH={args.bench!r} matches no benchmark that can be paired: "
                              "time_ benchmarks that measure in their samples (not track_ values)")
        logs = args.workdir / "paired-logs"
        logs.mkdir(parents=True, exist_ok=True)
        measured = measure_all(pythons, units, args.blocks, args.block_seconds, logs)
        rows = [(label, before, after, verdict.decide_paired(before, after, args.factor))
                for label, (before, after) in measured.items()]
    except (PairedError, ProfileError, CompareError, asvapi.AsvError) as exc:
        print(f"paired: error: {exc}", file=sys.stderr)
        return 2
    counted = [i for i, (label, *_) in enumerate(rows) if not any(re.search(p, label) for p in NOT_COUNTED)]
    for i, d in zip(counted, verdict.adjusted([rows[i][3] for i in counted])):
        rows[i] = (*rows[i][:3], d)
    text = render(rows, args.base, args.head, args.factor, args.blocks, args.block_seconds)
    print(text)
    args.markdown.write_text(text)
    return 1 if any(rows[i][3].verdict == "regression" for i in counted) else 0


if __name__ == "__main__":
    from .compare import guarded_main

    sys.exit(guarded_main(main=main, prog="paired"))
