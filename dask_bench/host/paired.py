"""`make paired BASE=<rev> HEAD=<rev> BENCH=<regex>`: two revisions measured side by side, at once.

    python -m dask_bench.host.paired BASE HEAD [-b REGEX] [--blocks N] [--block-seconds 0.5] [--factor 1.05]
    ./compare BASE HEAD --paired [...]   (the CI command: the same, same exit status)

Why: on this machine a cluster's speed drifts with the machine over tens of seconds to minutes (two
clusters running at the same time in one process agree within their sampling error, while clusters
started one after another differ by 5-15%: `make compare`'s "cluster noise"). `make compare`
alternates whole asv runs, minutes apart, so that drift is its noise floor. Here both revisions run
at the same time, each in its own asv environment (BASE in the configuration's, HEAD in make
compare's second one), each one benchmark on its own warm cluster (dask_bench.drive --serve, driving
the benchmark's own class; the journey's phases together, one journey a sample). The tool
alternates short blocks between them (`--block-seconds` of samples each, ABBA order) and judges the
pairs of neighbouring blocks (verdict.decide_paired): the
drift moves both blocks of a pair alike and cancels in their ratio (`--judge paired.json` judges
kept blocks again, measuring nothing). Time benchmarks only. The table
goes to paired.md and every block's samples, with the verdicts, to paired.json beside it (asv does
not record this mode, so nothing goes to results/). A benchmark that fails on one side is a row
(`!` failing on HEAD, `*` fixed), and the others are still measured. Until paired.json is written,
the blocks are kept segment by segment in the work directory (paired-blocks-<BASE>-<HEAD>.json,
Progress): the same command after an interruption measures only the segments still missing.

Exit status: 0 no regression, 1 a regression (or a benchmark failing on HEAD only), 2 an error
(bad input, set-up failed, or a benchmark failing on both sides: nothing measured it), as ./compare.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import math
import os
import re
import select
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

from . import asv_run as asv_runner, asvapi, verdict
from .asv_config import MAIN_CONFIG, REPO_ROOT
from .compare import (MARKS, NOT_COUNTED, WORK_DIR, CompareError, check_factor, prebuild, refuse_unused, resolve,
                      side_config)
from .profile import ProfileError, environment_python, matched
from .results import format_value

DEFAULT_BENCH = r"^futures\.SubmitLatency\.time_(submit_result|map_gather)"
PAIRED_FACTOR = 1.05  # its intervals are narrow enough for a 5% minimum effect (make calibrate PAIRED=1)
# The minimum effect per benchmark, unless --factor sets one for all; the first match counts. 1.05
# for all since the journey's phases run in 4 segments: in one, two of their A/A pairs reached 1.07
# and 1.09 (an offset between two clusters that lasts their life) and they needed 1.10; in 4, 0 of
# 42 (results/calibration-paired-2026.8.0-journey-60blocks-4segments.md). A benchmark a calibration
# shows needing more gets its pattern here, before the catch-all.
FACTOR_NEEDED = ((r"", PAIRED_FACTOR),)
# Blocks of 0.5 s a side, per benchmark: what the paired calibrations on this machine needed for
# the goals (results/calibration-paired-*): 120 for the submit round trip and 60 (in 4 segments) for
# map/gather, which met 5% with 60 and 30 in one calm hour but missed it by up to 2.2 points in a
# noisier one (-futures-defaults-gc-on) and keep a margin so (all four 5.0%, the worst A/A pair at
# 4.4%: -five-percent-4segments); 60 for the benchmarks whose 30-block calibration missed 10% (a
# pair of 60 takes 1-3 minutes); 120 for the journey's phases (a block there is one journey of its
# workload, and 60 left 6 of its 14 phases above 10%), 400 for the map's (120 left its submit and
# to_client at 18.9% and 14.6%; one A/A pair of 400 in 8 segments, 31 min: 6.4% and 5.0%,
# results/aa-paired-2026.8.0-journey-map-400blocks-8segments.md); 30 were enough for the rest.
# 240 for the round trip with processes: with 120 in 12 segments one A/A pair in 3 sat at 1.029
# (10 of its 12 segments above 1, p 0.002) with a 2.1% half-width, 5.1% detectable
# (calibration-paired-2026.8.0-five-percent-12segments.md); 3 new pairs of the same environments
# with 240: 1.006, 1.000, 1.000, the segment means' sd 2.7-3.0% (3.1-4.2% with 120), 5.0%
# (calibration-paired-2026.8.0-submit-processes-240blocks.md): the lean was a draw, not the builds.
# The first match counts.
BLOCKS_NEEDED = ((r"^futures\.SubmitLatency\.time_submit_result\('processes'\)", 240),
                 (r"^futures\.SubmitLatency\.time_submit_result", 120),
                 (r"^futures\.SubmitLatency\.time_map_gather", 60),
                 (r"^arrays\.ComputePersist\.time_(persist|sum_persisted)$", 60),
                 (r"^as_completed\.Throughput\.time_resubmit_window\(4, 1\)", 60),
                 (r"^bags\.AccountsBag\.time_alice_mean\(4\)", 60),
                 (r"^errors\.ErrorPath\.time_recreate_error_locally", 60),
                 (r"^journey\.TaskJourney\.time_phase\('map'", 400),
                 (r"^journey\.", 120),
                 (r"", 30))
# Segments: the blocks split among fresh pairs of servers (see measure). 4 where the calibration
# showed an offset between the two clusters of a pair to be the limit (60 blocks in one segment:
# persist 10.3%, the 4-worker bag 10.3%, recreate_error_locally 10.9%; in 4: 5.6%, 9.1%, 6.2%,
# results/calibration-paired-2026.8.0-rest-60blocks-4segments.md; the journey's phases: 0 A/A false
# alarms at 1.05 instead of 2, 8 of 14 phases at 10% or less instead of 3); 8 for the journey's,
# whose A/A segments still differed by twice what their blocks' noise explains (with 120 blocks:
# 0/42 A/A false alarms, 12 of 14 phases at 10% or less,
# results/calibration-paired-2026.8.0-journey-120blocks-8segments.md); 4 for the submit round trip
# and map/gather, whose A/A pairs in one reached 1.019-1.021 in a noisy hour; 1 elsewhere. 20 for
# the map journey's: since the rule takes the segment as the unit when segments sit apart, its
# interval shrinks with their number; 3 A/A pairs of 400 blocks in 8 put the between-segment sd of
# its phases at 1.7-5.0% and left execution and to_client at 11-12% (calibration-paired-2026.8.0-
# journey-map-400blocks-8segments.md, with a first pair's); those variance components give an
# expected half-width of 5.5% and 7.4% in 8 segments and 3.4% and 4.7% in 20 (a projection at first,
# calibrated since: 3 A/A pairs in 20 segments, 0 false alarms, 5.0% for every phase but submit's
# 7.4%, calibration-paired-2026.8.0-journey-map-400blocks-20segments.md; each segment costs a server start).
# 12 for the submit round trip and map/gather since the rule models segments: with 4, a pair whose
# segments the rule takes as the unit has 3 degrees of freedom (t 5.84); one A/A pair in 12, 14 min,
# met 5% for all four, map/gather's segments apart (ANOVA p 0.03-0.05) and its half-width 1.3-1.5%
# all the same (results/aa-paired-2026.8.0-futures-12segments.md); calibrated then, 3 A/A pairs:
# 5.0% but the round trip with processes 5.1% (calibration-paired-2026.8.0-five-percent-12segments.md).
# 8 for persist, the 4-worker bag and recreate_error_locally since the rule models segments: in 4 they
# came to 9.8%, 9.6%, 6.0% (one A/A pair each judged on 3 degrees of freedom), in 8 to 5.4%, 5.3%,
# 5.4% (calibration-paired-2026.8.0-{rest-and-round-trip-journey-by-segments,rest-60blocks-8segments}.md).
SEGMENTS_NEEDED = ((r"^futures\.SubmitLatency\.time_(submit_result|map_gather)", 12),
                   (r"^arrays\.ComputePersist\.time_persist$", 8),
                   (r"^journey\.TaskJourney\.time_phase\('map'", 20),
                   (r"^journey\.", 8),
                   (r"^bags\.AccountsBag\.time_alice_mean\(4\)", 8),
                   (r"^errors\.ErrorPath\.time_recreate_error_locally", 8),
                   (r"", 1))
REPLY_DEADLINE = 300.0  # seconds a server may take to start its cluster or to measure one block


class PairedError(Exception):
    pass


class UnitFailed(Exception):
    """A unit's server failed on one side or both: errors[0] BASE's, errors[1] HEAD's (None: it ran)."""

    def __init__(self, labels: list[str], errors: list[str | None]):
        super().__init__("; ".join(e for e in errors if e))
        self.labels, self.errors = labels, errors


def _first(table: tuple, label: str):
    """The value of the first pattern of `table` (FACTOR_NEEDED, BLOCKS_NEEDED, SEGMENTS_NEEDED) that
    `label` matches; each table ends with the catch-all pattern ""."""
    return next(value for pattern, value in table if re.search(pattern, label))


def factor_of(label: str, factor: float | None = None) -> float:
    """The minimum effect `label` is judged with: `factor` when given, else FACTOR_NEEDED's."""
    return _first(FACTOR_NEEDED, label) if factor is None else factor


def describe_factor(factor: float | None) -> str:
    if factor is not None:
        return f"factor {factor:g}"
    if len(FACTOR_NEEDED) == 1:
        return f"factor {FACTOR_NEEDED[0][1]:g}"
    return "factor " + ", ".join(f"{f:g} for " + (pattern.strip("^").replace("\\", "") + "*" if pattern else "the rest")
                                 for pattern, f in FACTOR_NEEDED)


def blocks_needed(labels: list[str]) -> int:
    """A unit's blocks a side (BLOCKS_NEEDED): the most any of its labels needs."""
    return max(_first(BLOCKS_NEEDED, label) for label in labels)


def segments_needed(labels: list[str]) -> int:
    """A unit's segments, each on a fresh pair of servers (SEGMENTS_NEEDED)."""
    return max(_first(SEGMENTS_NEEDED, label) for label in labels)


class Pairs(NamedTuple):
    """One benchmark's blocks, BASE's and HEAD's in the order measured, and how many of them each
    segment holds (a fresh pair of servers each; empty: all in one)."""
    before: list
    after: list
    segments: tuple = ()

    def record(self) -> dict:
        """How paired.json, and a paired calibration's JSON, keep them."""
        return {"blocks": {"base": self.before, "head": self.after}, "segments": list(self.segments)}

    @classmethod
    def of_record(cls, record: dict, segments: int | None = None) -> Pairs:
        """The Pairs a `record` keeps; `segments` splits the blocks of one that recorded none (written
        before they were kept) as `measure` split them. ValueError when they do not add up."""
        before, after = record["blocks"]["base"], record["blocks"]["head"]
        recorded = tuple(record.get("segments", ()))
        if recorded and segments:
            raise ValueError("the file records its segments: leave out --segments")
        if recorded and sum(recorded) != len(before):
            raise ValueError(f"{len(before)} blocks but segments of {sum(recorded)}")
        return cls(before, after, recorded or (segment_sizes(len(before), segments) if segments and segments > 1
                                               else ()))


def measured_code() -> str:
    """A digest of the code the benchmark servers import from this tree (the benchmarks, the harness
    and workloads, the data's generators): kept blocks are reused only for the same code."""
    digest = hashlib.sha256()
    for path in sorted(p for folder in ("benchmarks", "dask_bench", "data_prep") for p in (REPO_ROOT / folder).glob("*.py")):
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def run_key(commits: list[str], configs: list[Path], units: list[list[str]], blocks: int | None, seconds: float,
            segments: int | None) -> dict:
    """What makes blocks measured earlier the same measurement: the two commits and asv configurations
    (their environments' dependencies), the units, their blocks and segments as measured (defaults
    resolved: a changed default is another key), the block seconds and the code the servers run."""
    return {"commits": list(commits), "units": units, "blocks": [blocks or blocks_needed(unit) for unit in units],
            "block_seconds": seconds, "segments": [segments or segments_needed(unit) for unit in units],
            "code": measured_code(),
            "configs": hashlib.sha256("\0".join(Path(c).read_text() for c in configs).encode()).hexdigest()}


class Progress:
    """The blocks measured so far, segment by segment, in a file kept for one key (run_key): a run
    with the same key, after an interruption, measures only the segments the file lacks. Rewritten
    whole after every segment (a new file renamed over the old), so a kill never leaves it cut short;
    a file of another key, or unreadable, counts as nothing measured."""

    def __init__(self, path: Path, key: dict):
        self.path, self.key = path, json.loads(json.dumps(key))
        self.units: dict[str, dict] = {}
        try:
            data = json.loads(path.read_text())
            if data["key"] == self.key and isinstance(data["units"], dict):
                self.units = data["units"]
        except (OSError, ValueError, KeyError, TypeError):
            pass

    def resume(self, labels: list[str], sizes: tuple[int, ...]) -> tuple[int, list[list[dict]]]:
        """(segments measured, [BASE's blocks, HEAD's blocks]) of the unit `labels`, measured in
        segments of `sizes` blocks; (0, nothing) unless the kept blocks are exactly those segments'
        with samples (numbers) of every label in each."""
        try:
            kept = self.units[labels[0]]
            done, measured = kept["segments"], kept["blocks"]
            if isinstance(done, int) and 0 < done <= len(sizes) and len(measured) == 2 and all(
                    len(side) == sum(sizes[:done]) and all(
                        block[label] and all(isinstance(s, (int, float)) for s in block[label])
                        for block in side for label in labels)
                    for side in measured):
                return done, measured
        except (KeyError, TypeError):
            pass
        return 0, [[], []]

    def keep(self, labels: list[str], segments: int, measured: list[list[dict]]) -> None:
        self.units[labels[0]] = {"segments": segments, "blocks": measured}
        self._partial.write_text(json.dumps({"key": self.key, "units": self.units}) + "\n")
        os.replace(self._partial, self.path)

    def discard(self) -> None:
        for path in (self.path, self._partial):
            path.unlink(missing_ok=True)

    @property
    def _partial(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")


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


def measure(pythons: tuple[Path, Path], labels: list[str], blocks: int | None, seconds: float, logs: Path,
            log=print, segments: int | None = None, progress: Progress | None = None) -> dict[str, Pairs]:
    """{label: Pairs (BASE blocks, HEAD blocks, segment sizes)} of one unit (drive.units). blocks
    None: as many as the unit needs (blocks_needed). The blocks run in `segments` (default
    segments_needed), each on a fresh pair of servers (new clusters): an offset between two clusters
    that lasts their life then varies from segment to segment instead of sitting on every pair of
    blocks. Both servers of a segment run throughout it. UnitFailed names the side that failed.
    `progress`: the segments an earlier run of the same key measured are taken from it, and each
    segment measured here is kept in it."""
    blocks = blocks or blocks_needed(labels)
    segments = max(1, min(segments or segments_needed(labels), blocks))
    name = log_stem(labels[0])
    sizes = segment_sizes(blocks, segments)
    done, measured = progress.resume(labels, sizes) if progress else (0, [[], []])
    if done:
        log(f"  {labels[0]}{' and the rest of its unit' if len(labels) > 1 else ''}: {done} of {segments} "
            f"segment{'s' if segments > 1 else ''} measured by an earlier run of the same code and options, reused "
            f"({progress.path})", flush=True)
    for segment in range(done, segments):
        suffix = f"-{segment + 1}" if segments > 1 else ""
        _segment(pythons, labels, [logs / f"{side}-{name}{suffix}.log" for side in ("base", "head")], sizes[segment],
                 seconds, measured)
        if progress:
            progress.keep(labels, segment + 1, measured)
    by_label = {label: Pairs(*([block[label] for block in side] for side in measured), sizes if segments > 1 else ())
                for label in labels}
    for label, (before, after, _) in by_label.items():
        log(f"  {label}: {blocks} blocks a side{f' in {segments} segments' if segments > 1 else ''}, "
            f"{sum(map(len, before))} + {sum(map(len, after))} samples", flush=True)
    return by_label


def log_stem(label: str) -> str:
    """A unit's servers' logs are <side>-<stem of its first label>[-<segment>].log."""
    return re.sub(r"[^\w.()',-]+", "_", label)[:120]


def segment_sizes(blocks: int, segments: int) -> tuple[int, ...]:
    """How many of `blocks` consecutive blocks each of `segments` segments holds (the first ones one
    more when they do not divide evenly)."""
    return tuple(blocks // segments + (segment < blocks % segments) for segment in range(segments))


def _segment(pythons: tuple[Path, Path], labels: list[str], logs: list[Path], count: int, seconds: float,
             measured: list[list[dict]]) -> None:
    """`count` more blocks a side on a new pair of servers, appended to `measured` (ABBA, continuing)."""
    servers = [Server(python, labels, log) for python, log in zip(pythons, logs)]
    errors: list[str | None] = [None, None]
    try:
        for i, server in enumerate(servers):  # both are tried: which side fails is the verdict
            try:
                server.ready()
            except PairedError as exc:
                errors[i] = str(exc)
        if any(errors):
            raise UnitFailed(labels, errors)
        for _ in range(count):
            b = len(measured[0])
            for side in ((0, 1) if b % 2 == 0 else (1, 0)):  # ABBA: neither side always goes first
                try:
                    measured[side].append(servers[side].block(seconds))
                except PairedError as exc:
                    errors[side] = str(exc)
                    raise UnitFailed(labels, errors) from None
    finally:
        for server in servers:  # both end at once
            server.finish()
        for server in servers:
            server.close()


def pairable_units(labels: list[str]) -> list[list[str]]:
    """The labels that can be paired (dask_bench.drive.pairable), read from the suite's own classes,
    grouped by what one server measures (drive.units)."""
    from ..drive import benchmarks, pairable, units

    entries = benchmarks()
    return units([label for label in labels if label in entries and pairable(label, entries[label])])


def load_note(units: list[list[str]]) -> str | None:
    """A line saying that the selection holds load benchmarks (make load's: minutes a sample, so a
    pair of blocks takes minutes too), and the -b that selects everything else; None when it holds none."""
    load = [label for unit in units for label in unit if re.search(asv_runner.LOAD, label)]
    if not load:
        return None
    return (f"paired: note: {', '.join(load)}: load benchmark{'s' if len(load) > 1 else ''}, minutes a sample "
            f"(hours paired); -b '{asv_runner.DEFAULT}' selects all the others")


def measure_all(pythons: tuple[Path, Path], units: list[list[str]], blocks: int | None, seconds: float,
                logs: Path, segments: int | None = None,
                progress: Progress | None = None) -> tuple[dict[str, Pairs], dict[str, list]]:
    """Every unit, one after another: ({label: Pairs}, {label: [BASE's error,
    HEAD's error]} of the units that failed; the others are measured all the same). `progress`: as
    `measure`'s, for every unit."""
    measured, failed = {}, {}
    for unit in units:
        try:
            measured.update(measure(pythons, unit, blocks, seconds, logs, segments=segments, progress=progress))
        except UnitFailed as exc:
            print(f"  {exc.labels[0]}{' and the rest of its unit' if len(exc.labels) > 1 else ''}: failed: {exc}",
                  file=sys.stderr, flush=True)
            failed.update({label: exc.errors for label in exc.labels})
    return measured, failed


def judge(measured: dict[str, Pairs], failed: dict[str, list],
          factor: float | None = None) -> dict[str, verdict.Decision]:
    """{label: Decision}: the pairs of blocks judged (verdict.decide_paired, with `factor` or each
    benchmark's own, factor_of, and their segments), the counted ones' p-values adjusted together
    (verdict.adjusted); a unit that failed: "failing" when HEAD failed and BASE ran, "fixed" the
    other way round, "failed" on both sides."""
    decisions = {label: verdict.decide_paired(pairs.before, pairs.after, factor_of(label, factor), pairs.segments)
                 for label, pairs in ((label, Pairs(*value)) for label, value in measured.items())}
    for label, (base_error, head_error) in failed.items():
        decisions[label] = verdict.Decision("failed" if base_error and head_error else
                                            "failing" if head_error else "fixed", math.nan)
    counted = [label for label in decisions if counts(label) and not math.isnan(decisions[label].p)]
    decisions.update(zip(counted, verdict.adjusted([decisions[label] for label in counted])))
    return decisions


def counts(label: str) -> bool:
    return not any(re.search(p, label) for p in NOT_COUNTED)


def render(decisions: dict[str, verdict.Decision], measured: dict[str, Pairs], base: str, head: str,
           factor: float | None, blocks: int | None, seconds: float, machine: str | None = None) -> str:
    counted_blocks = {len(pairs[0]) for pairs in measured.values()}
    lines = [f"# Paired: {base} (BASE) and {head} (HEAD), side by side",
             "",
             f"Machine {machine or asvapi.host_machine()}; "
             f"{'-'.join(map(str, sorted(counted_blocks))) or blocks or 'no'} blocks "
             f"of {seconds:g} s a side, alternating (ABBA); ratio = HEAD / BASE of neighbouring blocks' medians "
             f"(geometric mean), {verdict.CONFIDENCE:.0%} interval; {describe_factor(factor)}. +: slower, -: faster, "
             "~: beyond the factor but not significant, !: fails on HEAD only, *: fails on BASE only; "
             "in parentheses: not counted. p: the t-test's, adjusted for the counted benchmarks together "
             "(Benjamini-Hochberg), so neighbouring rows can share it.",
             "",
             "| | benchmark | BASE | HEAD | ratio [interval] | ± | p | verdict |",
             "|---|---|---:|---:|---|---:|---:|---|"]
    for label, d in decisions.items():
        mark = MARKS.get(d.verdict, "")
        mark = f"({mark})" if mark and not counts(label) else mark
        if label in measured:
            med = [format_value(statistics.median(s for block in side for s in block), "seconds")
                   for side in measured[label][:2]]
        else:
            med = ["failed" if d.verdict in ("failed", "fixed") else "ran",
                   "failed" if d.verdict in ("failed", "failing") else "ran"]
        half = f"{max(d.high / d.ratio, d.ratio / d.low) - 1:.1%}" if not math.isnan(d.low) else ""
        p = f"{d.p:.2g}" if not math.isnan(d.p) else ""
        lines.append(f"| {mark} | `{label}` | {med[0]} | {med[1]} | {verdict.format_ratio(d)} | {half} | {p} | "
                     f"{d.verdict} |")
    return "\n".join(lines) + "\n"


def stored(decisions: dict[str, verdict.Decision], measured: dict, failed: dict, commits: list[str],
           base: str, head: str, factor: float | None, seconds: float) -> dict:
    """What paired.json keeps: every block's samples, each verdict, and what failed (its log's tail)."""
    def number(x):
        return None if math.isnan(x) else x

    return {"base": {"rev": base, "commit": commits[0]}, "head": {"rev": head, "commit": commits[1]},
            "machine": asvapi.host_machine(), "block_seconds": seconds,
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "benchmarks": {label: {"verdict": d.verdict, "counted": counts(label),
                                   "factor": factor_of(label, factor), "ratio": number(d.ratio),
                                   "low": number(d.low), "high": number(d.high), "p": number(d.p),
                                   **(Pairs(*measured[label]).record() if label in measured
                                      else {"errors": failed[label]})}
                           for label, d in decisions.items()}}


def rejudge(path: Path, factor: float | None, segments: int | None):
    """The blocks a paired.json (`stored`) keeps, judged again by today's rule: (decisions, measured,
    failed, its BASE and HEAD, its block seconds, its machine). `segments`: as Pairs.of_record."""
    try:
        data = json.loads(path.read_text())
        entries, names = data["benchmarks"], (data["base"]["rev"], data["head"]["rev"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PairedError(f"{path}: not a paired.json that make paired wrote ({exc})") from None
    measured, failed = {}, {}
    for label, entry in entries.items():
        if "blocks" not in entry:
            failed[label] = entry.get("errors", [None, None])
            continue
        try:
            measured[label] = Pairs.of_record(entry, segments)
        except (ValueError, KeyError, TypeError) as exc:
            raise PairedError(f"{path}: {label}: {exc}") from None
    return (judge(measured, failed, factor), measured, failed, *names, data.get("block_seconds", 0.5),
            data.get("machine", "unknown"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.paired", description=__doc__.split("\n\n")[0])
    parser.add_argument("base", nargs="?")
    parser.add_argument("head", nargs="?")
    parser.add_argument("--judge", type=Path, metavar="PAIRED_JSON",
                        help="measure nothing: judge again the blocks a paired.json keeps (BASE and HEAD are its own)")
    parser.add_argument("--bench", "-b", action="append", default=[],
                        help=f"benchmark regex, repeatable (default {DEFAULT_BENCH})")
    parser.add_argument("--blocks", type=int, help="blocks a side (default: what each benchmark needs, BLOCKS_NEEDED)")
    parser.add_argument("--block-seconds", type=float, default=0.5, help="seconds of samples a block (default 0.5)")
    parser.add_argument("--segments", type=int, help="fresh pairs of servers the blocks are split among "
                                                     "(default: what each benchmark needs, SEGMENTS_NEEDED)")
    parser.add_argument("--factor", type=float, help=f"minimum effect for all (default: {describe_factor(None)})")
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    parser.add_argument("--workdir", type=Path, default=WORK_DIR,
                        help="where HEAD's asv environment is (default: make compare's, .asv/compare)")
    parser.add_argument("--markdown", type=Path, help="where the table goes (default paired.md; with --judge, "
                                                      "only printed unless given)")
    args = parser.parse_args(argv)
    bench = "|".join(f"(?:{b})" for b in args.bench) or DEFAULT_BENCH
    try:
        if args.factor is not None:
            check_factor(args.factor)
        if args.judge is not None:
            if args.base or args.head or args.segments is not None and args.segments < 1:
                raise PairedError("--judge takes BASE and HEAD from the file: give neither (and --segments 1 or more)")
            refuse_unused(parser, args, {"judge", "base", "head", "segments", "factor", "markdown"}, "--judge")
            decisions, measured, failed, base, head, seconds, machine = rejudge(args.judge, args.factor, args.segments)
            text = render(decisions, measured, base, head, args.factor, None, seconds, machine)
            print(text)
            if args.markdown:
                args.markdown.write_text(text)
            return verdict_status(decisions)
        if not (args.base and args.head):
            raise PairedError("give BASE and HEAD (revisions), or --judge PAIRED_JSON")
        if (args.blocks is not None and args.blocks < verdict.MIN_PAIRS) or args.block_seconds < 0 \
                or (args.segments is not None and args.segments < 1):
            raise PairedError(f"--blocks must be at least {verdict.MIN_PAIRS}, --block-seconds 0 or more "
                              "and --segments 1 or more")
        conf = asvapi.config(args.config)
        commits = [resolve(conf, rev) for rev in (args.base, args.head)]
        configs = [args.config, side_config("results", args.config, args.workdir, "head")]
        for config, commit in zip(configs, commits):
            print(f"[build] {commit[:8]}", flush=True)
            prebuild(config, commit)
        pythons = tuple(environment_python(config) for config in configs)
        units = pairable_units(matched(pythons[1], bench))
        if not units:
            raise PairedError(f"BENCH={bench!r} matches no benchmark that can be paired: "
                              "time_ benchmarks that measure in their samples (not track_ values)")
        note = load_note(units)
        if note:
            print(note, file=sys.stderr, flush=True)
        logs = args.workdir / "paired-logs"
        logs.mkdir(parents=True, exist_ok=True)
        # kept until paired.json is written: the same command after an interruption resumes
        progress = Progress(args.workdir / f"paired-blocks-{commits[0][:12]}-{commits[1][:12]}.json",
                            run_key(commits, configs, units, args.blocks, args.block_seconds, args.segments))
        measured, failed = measure_all(pythons, units, args.blocks, args.block_seconds, logs, args.segments, progress)
    except (PairedError, ProfileError, CompareError, asvapi.AsvError) as exc:
        print(f"paired: error: {exc}", file=sys.stderr)
        return 2
    args.markdown = args.markdown or REPO_ROOT / "paired.md"
    decisions = judge(measured, failed, args.factor)
    text = render(decisions, measured, args.base, args.head, args.factor, args.blocks, args.block_seconds)
    print(text)
    args.markdown.write_text(text)
    data = stored(decisions, measured, failed, commits, args.base, args.head, args.factor, args.block_seconds)
    args.markdown.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    progress.discard()
    print(f"(written to {args.markdown} and {args.markdown.with_suffix('.json')})")
    return verdict_status(decisions, logs)


def verdict_status(decisions: dict[str, verdict.Decision], logs: Path | None = None) -> int:
    """2 when a benchmark failed on both sides (nothing measured it), 1 on a counted regression or a
    benchmark failing on HEAD only, else 0."""
    both = [label for label, d in decisions.items() if d.verdict == "failed"]
    if both:
        print(f"paired: error: {both[0]} failed on both sides" + (f": see the logs in {logs}" if logs else ""),
              file=sys.stderr)
        return 2
    return 1 if any(counts(label) and d.verdict in ("regression", "failing") for label, d in decisions.items()) else 0


if __name__ == "__main__":
    from .compare import guarded_main

    sys.exit(guarded_main(main=main, prog="paired"))
