"""The paired verdict: two revisions measured side by side, at once (`./compare BASE HEAD`).

    ./compare BASE HEAD [-b REGEX] [--blocks N] [--segments N] [--sequential | --fixed] [--factor F]
                        [--profile] [--build-only]
    ./compare --judge out/compare.json        kept blocks judged again, measuring nothing

Why: on this machine a cluster's speed drifts with the machine over seconds to days (clusters started
one after another differ by 5-15%; the same code on another day by up to 2.8x). Here both
revisions run at the same time, each in its own asv environment (BASE in the configuration's,
HEAD in a second one under the work directory), each unit of benchmarks on its own warm cluster
(dask_bench.drive --serve, driving the benchmark's own class; a journey's phases together, one
journey a sample). The tool alternates short blocks between them (`--block-seconds` of samples
each, ABBA order), in segments (fresh pairs of servers), and judges the pairs of neighbouring blocks
(verdict.decide_paired): the drift moves both blocks of a pair alike and cancels in their ratio.
A benchmark whose policy says `sequential` (calibrated so) is judged after every segment and
stops once its verdict is settled, the error spent over the looks (verdict.boundaries); the others
measure every planned segment (--sequential, --fixed: every benchmark one way).
Time benchmarks only. The table goes to out/compare.md and every block's samples, with the
verdicts, to out/compare.json beside it (asv does not record this mode: nothing goes to results/).
A benchmark that fails on one side is a row (`!` failing on HEAD, `*` fixed), and the others are
still measured. Until the JSON is written, the blocks are kept segment by segment in the work
directory (paired-blocks-<BASE>-<HEAD>.json, Progress): the same command after an interruption
measures only the segments still missing.

Exit status (dask_bench.host.cli): 0 every counted benchmark same or faster, 1 one slower (or
failing on HEAD only), 3 one inconclusive and none slower, 2 an error (bad input, set-up failed,
or a benchmark failing on both sides: nothing measured it).
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

from .. import policy
from . import asv_run as asv_runner, asvapi, profile, verdict
from .asv_config import MAIN_CONFIG, OUT_DIR, REPO_ROOT
from .cli import EXIT_ERROR, EXIT_INCONCLUSIVE, EXIT_SLOWER, ToolError, check_factor, command, refuse_unused, write
from .results import format_value
from .revisions import WORK_DIR, environment_python, listing, prebuild, resolve, side_config
from .verdict import MARKS

REPLY_DEADLINE = 300.0  # seconds a server may take to start its cluster or to measure one block


class PairedError(ToolError):
    pass


class UnitFailed(Exception):
    """A unit's server failed on one side or both: errors[0] BASE's, errors[1] HEAD's (None: it ran)."""

    def __init__(self, labels: list[str], errors: list[str | None]):
        super().__init__("; ".join(e for e in errors if e))
        self.labels, self.errors = labels, errors


def factor_of(label: str, factor: float | None = None) -> float:
    """The minimum effect `label` is judged with: `factor` when given, else its policy's."""
    return policy.policy_of(label).factor if factor is None else factor


def describe_factor(factor: float | None) -> str:
    return f"factor {factor:g}" if factor is not None else "each benchmark's own factor"


def blocks_needed(labels: list[str]) -> int:
    """A unit's blocks a side (its policy's paired_blocks): the most any of its labels needs."""
    return max(policy.policy_of(label).paired_blocks for label in labels)


def segments_needed(labels: list[str]) -> int:
    """A unit's segments, each on a fresh pair of servers (its policy's paired_segments)."""
    return max(policy.policy_of(label).paired_segments for label in labels)


def sequential_of(labels: list[str], sequential: bool | None = None) -> bool:
    """Whether a unit is measured sequentially (a look after every segment, stopping once settled):
    `sequential` when given (--sequential, --fixed), else its policy's (every label's)."""
    if sequential is not None:
        return sequential
    try:
        return all(policy.policy_of(label).sequential for label in labels)
    except policy.PolicyError:  # a name the suite does not have: it fails as it runs, not here
        return False


def add_plan_options(parser: argparse.ArgumentParser, each: str = "") -> None:
    """The options of every command that judges two sides: --factor, --blocks, --segments, and
    --sequential or --fixed (args.sequential: True, False, or None for each benchmark's policy)."""
    parser.add_argument("--factor", type=float, help=f"minimum effect for all (default: {describe_factor(None)})")
    parser.add_argument("--blocks", type=int, help=f"blocks a side{each} (default: each benchmark's paired_blocks)")
    parser.add_argument("--segments", type=int, help=f"fresh pairs of servers the blocks are split among{each} "
                                                     "(default: each benchmark's paired_segments)")
    parser.add_argument("--sequential", action="store_const", const=True, help="every benchmark: look after each "
                        "segment and stop once settled (the error spent over the looks: verdict.boundaries)")
    parser.add_argument("--fixed", action="store_true", help="every benchmark: all its planned segments "
                        "(default: sequential where its policy says so, calibrated so)")


def check_plan(args) -> None:
    """ToolError naming the fix for a --factor, --blocks or --segments no verdict can use, or for
    --sequential with --fixed (one line, not argparse's usage); then args.sequential is True, False
    (--fixed) or None (each benchmark's policy)."""
    if args.fixed and args.sequential:
        raise ToolError("--sequential and --fixed (SEQUENTIAL=1, FIXED=1) exclude each other: give one")
    args.sequential = False if args.fixed else args.sequential
    if args.factor is not None:
        check_factor(args.factor)
    if (args.blocks is not None and args.blocks < verdict.MIN_PAIRS) or (args.segments is not None
                                                                         and args.segments < 1):
        raise ToolError(f"--blocks must be at least {verdict.MIN_PAIRS} and --segments 1 or more")


class Pairs(NamedTuple):
    """One benchmark's blocks, BASE's and HEAD's in the order measured, and how many of them each
    segment holds (a fresh pair of servers each; empty: all in one). `planned`: the segments planned
    when it was measured sequentially (it may have stopped before them; 0: a fixed plan)."""
    before: list
    after: list
    segments: tuple = ()
    planned: int = 0
    seconds: float = 0.0  # how long its unit took to measure, kept segments included (0: not known)
    fixed: float = 0.0    # of those seconds, starting and stopping its servers and their clusters
    unit: str = ""        # the first label of the unit it was measured in ("": not recorded)

    def record(self) -> dict:
        """How a comparison's JSON (out/compare.json), and a paired calibration's JSON, keep them."""
        return {"blocks": {"base": self.before, "head": self.after}, "segments": list(self.segments),
                **({"planned_segments": self.planned} if self.planned else {}),
                **({"seconds": round(self.seconds, 1)} if self.seconds else {}),
                **({"fixed_seconds": round(self.fixed, 1)} if self.fixed else {}),
                **({"unit": self.unit} if self.unit else {})}

    @property
    def alpha(self) -> float:
        """The level its verdict is judged at: its last look's (verdict.boundaries) when sequential."""
        return verdict.boundaries(self.planned)[max(len(self.segments), 1) - 1] if self.planned else verdict.ALPHA

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
        planned = int(record.get("planned_segments", 0))
        if planned and planned < max(len(recorded), 1):
            raise ValueError(f"planned_segments {planned}: fewer than the {len(recorded)} segments it kept")
        return cls(before, after, recorded or (segment_sizes(len(before), segments) if segments and segments > 1
                                               else ()), planned,
                   float(record.get("seconds", 0.0)), float(record.get("fixed_seconds", 0.0)), str(record.get("unit", "")))


def measured_code() -> str:
    """A digest of the code the benchmark servers import from this tree (the benchmarks, the harness
    and workloads, the data's generators): kept blocks are reused only for the same code."""
    digest = hashlib.sha256()
    for path in sorted(p for folder in ("benchmarks", "dask_bench", "data_prep") for p in (REPO_ROOT / folder).glob("*.py")):
        digest.update(str(path.relative_to(REPO_ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def run_key(commits: list[str], configs: list[Path], units: list[list[str]], blocks: int | None, seconds: float,
            segments: int | None, sequential: bool | None = None) -> dict:
    """What makes blocks measured earlier the same measurement: the two commits and asv configurations
    (their environments' dependencies), the units, their blocks and segments as measured and whether
    sequentially (defaults resolved: a changed default is another key), the block seconds and the
    code the servers run."""
    looks = [sequential_of(unit, sequential) for unit in units]
    return {"commits": list(commits), "units": units, "blocks": [blocks or blocks_needed(unit) for unit in units],
            "block_seconds": seconds, "segments": [segments or segments_needed(unit) for unit in units],
            "code": measured_code(), **({"sequential": looks} if any(looks) else {}),
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

    def keep(self, labels: list[str], segments: int, measured: list[list[dict]], seconds: float = 0.0,
             fixed: float = 0.0) -> None:
        self.units[labels[0]] = {"segments": segments, "blocks": measured, "seconds": seconds, "fixed": fixed}
        self._partial.write_text(json.dumps({"key": self.key, "units": self.units}) + "\n")
        os.replace(self._partial, self.path)

    def seconds(self, labels: list[str], what: str = "seconds") -> float:
        """How long the kept segments of the unit `labels` took to measure (0 when not known); what
        "fixed": of it, starting and stopping servers."""
        value = self.units.get(labels[0], {}).get(what, 0.0)
        return float(value) if isinstance(value, (int, float)) else 0.0

    def discard(self) -> None:
        for path in (self.path, self._partial):
            path.unlink(missing_ok=True)

    @property
    def _partial(self) -> Path:
        return self.path.with_name(self.path.name + ".partial")


class Server:
    """One unit of benchmarks (drive.units: one benchmark, or the journey's phases) served by
    dask_bench.drive in one asv environment: a warm cluster, samples on request."""

    def __init__(self, python: Path, labels: list[str], log: Path, env: dict | None = None):
        self.labels, self.log = labels, log
        self.label = labels[0] if len(labels) == 1 else f"{labels[0]} and {len(labels) - 1} more"
        with log.open("w") as stderr:  # the child keeps its own copy of the file
            self.proc = subprocess.Popen([str(python), "-m", "dask_bench.drive", "--serve", *labels], cwd=REPO_ROOT,
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                         text=True, start_new_session=True, env={**os.environ, **(env or {})})

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
            log=print, segments: int | None = None, progress: Progress | None = None, sequential: bool = False,
            factor: float | None = None, envs: tuple = (None, None), judged_with: int = 1) -> dict[str, Pairs]:
    """{label: Pairs (BASE blocks, HEAD blocks, segment sizes)} of one unit (drive.units). blocks
    None: as many as the unit needs (blocks_needed). The blocks run in `segments` (default
    segments_needed), each on a fresh pair of servers (new clusters): an offset between two clusters
    that lasts their life then varies from segment to segment instead of sitting on every pair of
    blocks. Both servers of a segment run throughout it. UnitFailed names the side that failed.
    `progress`: the segments an earlier run of the same key measured are taken from it, and each
    segment measured here is kept in it. `sequential`: after every segment but the last, each label is
    judged at that look's level (verdict.boundaries, the error spent over the planned segments), and the
    unit stops once every label is settled (`settled`: `judged_with` counted benchmarks are judged
    together at the end). `envs`: each side's extra environment variables (make ab's: one build, two
    dask settings)."""
    blocks = blocks or blocks_needed(labels)
    segments = max(1, min(segments or segments_needed(labels), blocks))
    name = log_stem(labels[0])
    sizes = segment_sizes(blocks, segments)
    done, measured = progress.resume(labels, sizes) if progress else (0, [[], []])
    if done:
        log(f"  {labels[0]}{' and the rest of its unit' if len(labels) > 1 else ''}: {done} of {segments} "
            f"segment{'s' if segments > 1 else ''} measured by an earlier run of the same code and options, reused "
            f"({progress.path})", flush=True)
    looked, started = segments, time.monotonic()
    before = progress.seconds(labels) if progress and done else 0.0  # the kept segments' own time
    fixed = progress.seconds(labels, "fixed") if progress and done else 0.0
    for segment in range(segments):
        if segment >= done:
            suffix = f"-{segment + 1}" if segments > 1 else ""
            fixed += _segment(pythons, labels, [logs / f"{side}-{name}{suffix}.log" for side in ("base", "head")],
                              sizes[segment], seconds, measured, envs)
            if progress:
                progress.keep(labels, segment + 1, measured, before + time.monotonic() - started, fixed)
        if sequential and segment + 1 < segments and segment + 1 >= done:
            looks = look(measured, labels, sizes, segment + 1, factor)
            if all(settled(d, judged_with) for d in looks.values()):
                looked = segment + 1
                log(f"  {labels[0]}{' and the rest of its unit' if len(labels) > 1 else ''}: settled after "
                    f"{looked} of {segments} segments ({', '.join(sorted({d.verdict for d in looks.values()}))})",
                    flush=True)
                break
    count = sum(sizes[:looked])
    kept = sizes[:looked] if looked > 1 else ()
    by_label = {label: Pairs(*([block[label] for block in side[:count]] for side in measured), kept,
                             segments if sequential and segments > 1 else 0, before + time.monotonic() - started,
                             fixed, labels[0])
                for label in labels}
    for label, (before, after, *_) in by_label.items():
        log(f"  {label}: {len(before)} blocks a side{f' in {looked} segments' if looked > 1 else ''}, "
            f"{sum(map(len, before))} + {sum(map(len, after))} samples", flush=True)
    return by_label


def look(measured: list[list[dict]], labels: list[str], sizes: tuple[int, ...], k: int,
         factor: float | None = None) -> dict[str, verdict.Decision]:
    """Each label judged on the blocks of the first `k` of the planned segments `sizes`, at look k's
    level (verdict.boundaries over len(sizes) looks)."""
    count = sum(sizes[:k])
    return {label: verdict.decide_paired([b[label] for b in measured[0][:count]], [b[label] for b in measured[1][:count]],
                                         factor_of(label, factor), sizes[:k] if k > 1 else None,
                                         verdict.boundaries(len(sizes))[k - 1])
            for label in labels}


def replay(by_label: dict[str, Pairs], factor: float | None = None) -> dict[str, Pairs]:
    """Pairs measured sequentially, cut where today's rule stops them: each unit (the labels measured
    together: as recorded, else those that share their seconds, fixed seconds and segments) at the
    first look where `measure` would have found every label settled; the rest as kept. A look k before
    the last kept needs only the first k segments' sizes and how many were planned. Their seconds stay
    the measured ones."""
    judged_with = max(1, sum(map(counts, by_label)))
    units: dict[object, list[str]] = {}
    for label, p in by_label.items():
        units.setdefault(p.unit or (p.seconds, p.fixed, p.segments, p.planned), []).append(label)
    cut = dict(by_label)
    for labels in units.values():
        kept, planned = by_label[labels[0]].segments, by_label[labels[0]].planned
        if not planned:
            continue
        sizes = tuple(kept) + (0,) * (planned - len(kept))
        measured = [[{label: getattr(by_label[label], side)[i] for label in labels} for i in range(sum(kept))]
                    for side in ("before", "after")]
        stop = next((k for k in range(1, len(kept)) if all(
            settled(d, judged_with) for d in look(measured, labels, sizes, k, factor).values())), None)
        if stop:
            count = sum(sizes[:stop])
            cut.update({label: by_label[label]._replace(
                before=by_label[label].before[:count], after=by_label[label].after[:count],
                segments=sizes[:stop] if stop > 1 else ()) for label in labels})
    return cut


def settled(d: verdict.Decision, judged_with: int = 1) -> bool:
    """Whether a look's decision can stop measuring: same; or slower or faster even after the final
    table adjusts its p-value for the `judged_with` counted benchmarks judged together (verdict.adjusted:
    a Benjamini-Hochberg p is at most judged_with times the raw one), so that a benchmark never stops
    on a look's "slower" the table then calls inconclusive."""
    return verdict.settled(d) and (d.verdict == verdict.SAME or d.p * judged_with < d.alpha)


def log_stem(label: str) -> str:
    """A unit's servers' logs are <side>-<stem of its first label>[-<segment>].log."""
    return re.sub(r"[^\w.()',-]+", "_", label)[:120]


def segment_sizes(blocks: int, segments: int) -> tuple[int, ...]:
    """How many of `blocks` consecutive blocks each of `segments` segments holds (the first ones one
    more when they do not divide evenly)."""
    return tuple(blocks // segments + (segment < blocks % segments) for segment in range(segments))


def _segment(pythons: tuple[Path, Path], labels: list[str], logs: list[Path], count: int, seconds: float,
             measured: list[list[dict]], envs: tuple = (None, None)) -> float:
    """`count` more blocks a side on a new pair of servers, appended to `measured` (ABBA, continuing);
    the seconds spent starting the servers (until both are warm) and stopping them: its fixed cost."""
    started = time.monotonic()
    servers = [Server(python, labels, log, env) for python, log, env in zip(pythons, logs, envs)]
    errors: list[str | None] = [None, None]
    blocks = 0.0
    try:
        for i, server in enumerate(servers):  # both are tried: which side fails is the verdict
            try:
                server.ready()
            except PairedError as exc:
                errors[i] = str(exc)
        if any(errors):
            raise UnitFailed(labels, errors)
        blocks = time.monotonic()
        for _ in range(count):
            b = len(measured[0])
            for side in ((0, 1) if b % 2 == 0 else (1, 0)):  # ABBA: neither side always goes first
                try:
                    measured[side].append(servers[side].block(seconds))
                except PairedError as exc:
                    errors[side] = str(exc)
                    raise UnitFailed(labels, errors) from None
        blocks = time.monotonic() - blocks
    finally:
        for server in servers:  # both end at once
            server.finish()
        for server in servers:
            server.close()
    return time.monotonic() - started - blocks


def load_note(units: list[list[str]]) -> str | None:
    """A line saying that the selection holds load benchmarks (make load's: minutes a sample, so a
    pair of blocks takes minutes too), and the -b that selects everything else; None when it holds none."""
    load = [label for unit in units for label in unit if policy.policy_of(label).selection == "load"]
    if not load:
        return None
    return (f"compare: note: {', '.join(load)}: load benchmark{'s' if len(load) > 1 else ''}, minutes a sample "
            f"(hours paired); -b '{policy.selection_regex('default')}' selects all the others")


def measure_all(pythons: tuple[Path, Path], units: list[list[str]], blocks: int | None, seconds: float,
                logs: Path, segments: int | None = None, progress: Progress | None = None,
                sequential: bool | None = None, factor: float | None = None,
                envs: tuple = (None, None)) -> tuple[dict[str, Pairs], dict[str, list]]:
    """Every unit, one after another: ({label: Pairs}, {label: [BASE's error,
    HEAD's error]} of the units that failed; the others are measured all the same). `progress`: as
    `measure`'s, for every unit; `sequential`: for every unit, else each unit's policy's (sequential_of)."""
    measured, failed = {}, {}
    for unit in units:
        try:
            measured.update(measure(pythons, unit, blocks, seconds, logs, segments=segments, progress=progress,
                                    judged_with=max(1, sum(counts(label) for unit_ in units for label in unit_)),
                                    sequential=sequential_of(unit, sequential), factor=factor, envs=envs))
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
    decisions = {label: verdict.decide_paired(pairs.before, pairs.after, factor_of(label, factor), pairs.segments,
                                              pairs.alpha)
                 for label, pairs in ((label, Pairs(*value)) for label, value in measured.items())}
    for label, (base_error, head_error) in failed.items():
        decisions[label] = verdict.Decision("failed" if base_error and head_error else
                                            "failing" if head_error else "fixed", math.nan)
    counted = [label for label in decisions if counts(label) and not math.isnan(decisions[label].p)]
    decisions.update(zip(counted, verdict.adjusted([decisions[label] for label in counted])))
    return decisions


def counts(label: str) -> bool:
    return policy.counted(label)


def tally(decisions: dict[str, verdict.Decision]) -> dict[str, int]:
    """How many counted benchmarks each outcome has: slower (failing included), faster (fixed
    included), inconclusive (too few samples included), same."""
    groups = {"slower": ("slower", "failing"), "faster": ("faster", "fixed"),
              "inconclusive": ("inconclusive", "too few samples", "no statistics"), "same": ("same",)}
    counted = [d.verdict for label, d in decisions.items() if counts(label)]
    return {name: sum(v in members for v in counted) for name, members in groups.items()}


def duration(seconds: float) -> str:
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def headline(decisions: dict[str, verdict.Decision], machine: str, took: dict | None = None) -> str:
    """The one line a CI job posts: '1 slower, 0 faster, 2 inconclusive, 3 same (measured in 4 min 5 s,
    0 min 40 s of it starting and stopping clusters, built in 3 min 1 s, machine vm)'."""
    counts_ = tally(decisions)
    took = {what: value for what, value in (took or {}).items() if value or what != "fixed"}  # fixed 0: not known
    spent = "".join(f"{what} in {duration(took[what])}, "
                    + (f"{duration(took['fixed'])} of it starting and stopping clusters, "
                       if what == "measured" and "fixed" in took else "")
                    for what in ("measured", "built") if what in took)
    failed = sum(d.verdict == "failed" for d in decisions.values())
    return (", ".join(f"**{n} {name}**" if n and name in ("slower", "inconclusive") else f"{n} {name}"
                      for name, n in counts_.items())
            + (f", {failed} failed on both sides" if failed else "") + f" ({spent}machine {machine})")


def render(decisions: dict[str, verdict.Decision], measured: dict[str, Pairs], base: str, head: str,
           factor: float | None, blocks: int | None, seconds: float, machine: str | None = None,
           took: dict | None = None) -> str:
    machine = machine or asvapi.host_machine()
    counted_blocks = {len(pairs[0]) for pairs in measured.values()}
    lines = [headline(decisions, machine, took),
             "",
             f"### distributed {base} (BASE) against {head} (HEAD), measured side by side",
             "",
             f"{'-'.join(map(str, sorted(counted_blocks))) or blocks or 'no'} blocks "
             f"of {seconds:g} s a side, alternating (ABBA); ratio = HEAD / BASE of neighbouring blocks' medians "
             f"(geometric mean), {verdict.CONFIDENCE:.0%} interval; {describe_factor(factor)}. Verdict: slower "
             "or faster when the change is significant and beyond the factor, same when the whole interval lies "
             "within [1/factor, factor], inconclusive otherwise (exit 3: measure more, e.g. --blocks); a change "
             "whose interval excludes 1 shows its size. +: slower, -: faster, ?: inconclusive, !: fails on HEAD "
             "only, *: fails on BASE only; in parentheses: not counted. p: the t-test's, adjusted for the "
             "counted benchmarks together (Benjamini-Hochberg), so neighbouring rows can share it.",
             "",
             "| | benchmark | BASE | HEAD | ratio [interval] | ± | factor | p | verdict |",
             "|---|---|---:|---:|---|---:|---:|---:|---|"]
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
        shown_factor = f"{d.factor:g}" if not math.isnan(d.factor) else ""
        lines.append(f"| {mark} | `{label}` | {med[0]} | {med[1]} | {verdict.format_ratio(d)} | {half} | "
                     f"{shown_factor} | {p} | {verdict.verdict_text(d)} |")
    return "\n".join(lines) + "\n"


def stored(decisions: dict[str, verdict.Decision], measured: dict, failed: dict, commits: list[str],
           base: str, head: str, factor: float | None, seconds: float) -> dict:
    """What the comparison's JSON keeps: every block's samples, each verdict, and what failed (its log's tail)."""
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
    """The blocks a comparison's JSON (`stored`) keeps, judged again by today's rule (a sequential unit's
    looks replayed, `replay`): (decisions, measured,
    failed, its BASE and HEAD, its block seconds, its machine). `segments`: as Pairs.of_record."""
    try:
        data = json.loads(path.read_text())
        entries, names = data["benchmarks"], (data["base"]["rev"], data["head"]["rev"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise PairedError(f"{path}: not the JSON a comparison wrote (out/compare.json) ({exc})") from None
    measured, failed = {}, {}
    for label, entry in entries.items():
        if "blocks" not in entry:
            failed[label] = entry.get("errors", [None, None])
            continue
        try:
            measured[label] = Pairs.of_record(entry, segments)
        except (ValueError, KeyError, TypeError) as exc:
            raise PairedError(f"{path}: {label}: {exc}") from None
    measured = replay(measured, factor)
    return (judge(measured, failed, factor), measured, failed, *names, data.get("block_seconds", 0.5),
            data.get("machine", "unknown"))


@command("compare")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="./compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("base", nargs="?")
    parser.add_argument("head", nargs="?")
    parser.add_argument("--judge", type=Path, metavar="PAIRED_JSON",
                        help="measure nothing: judge again the blocks a comparison's JSON keeps (BASE and HEAD are its own)")
    parser.add_argument("--bench", "-b", action="append", default=[],
                        help="benchmark regex, repeatable (default: the quick selection)")
    add_plan_options(parser)
    parser.add_argument("--block-seconds", type=float, default=0.5, help="seconds of samples a block (default 0.5)")
    parser.add_argument("--profile", action="store_true",
                        help="profile every slower benchmark on both sides and link the diff pages")
    parser.add_argument("--profiles", type=Path, default=profile.PROFILES_DIR, help="where --profile writes")
    parser.add_argument("--profile-seconds", type=float, default=5.0, help="how long each profile samples")
    parser.add_argument("--build-only", action="store_true",
                        help="build and install both revisions, measure nothing (set up online, compare offline)")
    parser.add_argument("--config", type=Path, default=MAIN_CONFIG)
    parser.add_argument("--workdir", type=Path, default=WORK_DIR,
                        help="where HEAD's asv environment is (default: make compare's, .asv/compare)")
    parser.add_argument("--swap", action="store_true", help="BASE in HEAD's environment and HEAD in the "
                        "configuration's (a chain alternates them: a release shared by two pairs stays installed)")
    parser.add_argument("--markdown", type=Path, help="where the table goes (default out/compare.md, its blocks "
                        "beside it in out/compare.json; with --judge, "
                                                      "only printed unless given)")
    args = parser.parse_args(argv)
    bench = "|".join(f"(?:{b})" for b in args.bench) or policy.selection_regex("quick")
    if args.judge is not None:  # before check_plan, which resolves --fixed into args.sequential
        if args.base or args.head:
            raise PairedError("--judge takes BASE and HEAD from the file: give neither")
        refuse_unused(parser, args, {"judge", "base", "head", "segments", "factor", "markdown"}, "--judge")
    check_plan(args)
    if args.judge is not None:
        decisions, measured, failed, base, head, seconds, machine = rejudge(args.judge, args.factor, args.segments)
        text = render(decisions, measured, base, head, args.factor, None, seconds, machine)
        print(text)
        if args.markdown:
            write(args.markdown, text)
        return verdict_status(decisions)
    if not (args.base and args.head):
        raise PairedError("give BASE and HEAD (revisions), or --judge PAIRED_JSON")
    if args.block_seconds < 0:
        raise PairedError("--block-seconds must be 0 or more")
    conf = asvapi.config(args.config)
    commits = [resolve(conf, rev) for rev in (args.base, args.head)]
    configs = [args.config, side_config("results", args.config, args.workdir, "head")][::-1 if args.swap else 1]
    started = time.monotonic()
    for config, commit in zip(configs, commits):
        print(f"[build] {commit[:8]}", flush=True)
        prebuild(config, commit)
    took = {"built": time.monotonic() - started}
    if args.build_only:
        return 0
    pythons = tuple(environment_python(config) for config in configs)
    units = listing(pythons[1], bench)["units"]
    if not units:
        raise PairedError(f"BENCH={bench!r} matches no benchmark that can be paired: "
                          "time_ benchmarks that measure in their samples (not track_ values)")
    note = load_note(units)
    if note:
        print(note, file=sys.stderr, flush=True)
    logs = args.workdir / "paired-logs"
    logs.mkdir(parents=True, exist_ok=True)
    # kept until the JSON is written: the same command after an interruption resumes
    progress = Progress(args.workdir / f"paired-blocks-{commits[0][:12]}-{commits[1][:12]}.json",
                        run_key(commits, configs, units, args.blocks, args.block_seconds, args.segments,
                                args.sequential))
    measuring = time.monotonic()
    measured, failed = measure_all(pythons, units, args.blocks, args.block_seconds, logs, args.segments, progress,
                                   args.sequential, args.factor)
    took["measured"] = time.monotonic() - measuring
    took["fixed"] = sum(measured[unit[0]].fixed for unit in units if unit[0] in measured)
    args.markdown = args.markdown or OUT_DIR / "compare.md"
    args.markdown.parent.mkdir(parents=True, exist_ok=True)
    decisions = judge(measured, failed, args.factor)
    text = render(decisions, measured, args.base, args.head, args.factor, args.blocks, args.block_seconds,
                  took=took)
    if args.profile:
        slower = [label for label, d in decisions.items() if counts(label) and d.verdict == verdict.SLOWER]
        text += profile.profile_regressions(slower, list(zip(pythons, commits)), args.markdown.parent,
                                            args.profile_seconds, args.profiles)
    print(text)
    write(args.markdown, text)
    data = {**stored(decisions, measured, failed, commits, args.base, args.head, args.factor, args.block_seconds),
            "seconds": took}
    args.markdown.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n")
    progress.discard()
    print(f"(written to {args.markdown} and {args.markdown.with_suffix('.json')})")
    return verdict_status(decisions, logs)


def verdict_status(decisions: dict[str, verdict.Decision], logs: Path | None = None) -> int:
    """The exit status (dask_bench.host.cli): 2 when a benchmark failed on both sides (nothing measured
    it), 1 on a counted benchmark slower or failing on HEAD only, 3 when a counted one is
    inconclusive, else 0."""
    both = [label for label, d in decisions.items() if d.verdict == "failed"]
    if both:
        print(f"compare: error: {both[0]} failed on both sides" + (f": see the logs in {logs}" if logs else ""),
              file=sys.stderr)
        return EXIT_ERROR
    outcome = tally(decisions)
    return EXIT_SLOWER if outcome["slower"] else EXIT_INCONCLUSIVE if outcome["inconclusive"] else 0


if __name__ == "__main__":
    sys.exit(main())
