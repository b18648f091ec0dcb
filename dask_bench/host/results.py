"""The one reader of asv's stored results, for compare, noise, ab, calibrate, report and summary.

One file per (machine, commit, environment): results/<machine>/<hash[:8]>-<env name>.json, loaded
with asv's own loader (dask_bench.host.asvapi). A Run holds, per benchmark and parameter combination,
the median (time_) or value (track_), the raw samples when asv recorded them (`--record-samples`,
which every command here passes), and the benchmark's version (its code identity).

asv appends the samples of every round (one asv process, one cluster) to one list. The commands
that measure round by round (compare, noise, ab, calibrate, bisect) write how many samples each
round added beside the results: rounds/<machine>/<results file name>, a directory asv does not read
(it has no machine.json); so does `make history`. The verdict judges clusters by these rounds;
results without them (asv's own rounds inside one run) count as one round.
"""

from __future__ import annotations

import itertools
import json
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from . import asvapi
from .cli import ToolError

REPO_ROOT = Path(__file__).resolve().parent.parent.parent
RESULTS_DIR = REPO_ROOT / "results"
BASELINE_MODULE = "baselines"


class ResultsError(ToolError):
    """No usable results where asked: the message names the fix."""


@dataclass(frozen=True)
class Measurement:
    value: float                        # median of the samples, or a track_ value; nan: failed or skipped
    samples: tuple[float, ...] | None   # every sample of a time_ benchmark, when recorded
    version: str | None                 # the benchmark's code identity when it ran
    round_sizes: tuple[int, ...] | None = None  # samples per round, in order, when recorded
    started_at: float | None = None     # when asv started measuring it, ms since the epoch

    @property
    def ok(self) -> bool:
        return not math.isnan(self.value)

    @property
    def recorded_rounds(self) -> int:
        """How many recorded rounds the samples are (0: the split was not recorded or does not fit)."""
        sizes = self.round_sizes
        return len(sizes) if self.samples and sizes and sum(sizes) == len(self.samples) else 0

    @property
    def rounds(self) -> list[tuple[float, ...]] | None:
        """The samples split into rounds (one round when the split was not recorded or does not fit)."""
        if not self.samples:
            return None
        sizes = self.round_sizes
        if not sizes or sum(sizes) != len(self.samples):
            return [self.samples]
        edges = list(itertools.accumulate(sizes))
        return [self.samples[e - n:e] for e, n in zip(edges, sizes) if n]


@dataclass
class Run:
    path: Path
    machine: str
    commit: str
    env_name: str
    date: int  # the commit's date, ms since the epoch
    env_vars: dict
    measurements: dict = field(default_factory=dict)  # (benchmark, params) -> Measurement

    @property
    def values(self) -> dict:
        return {key: m.value for key, m in self.measurements.items()}

    @property
    def benchmarks(self) -> set[str]:
        return {name for name, _ in self.measurements}


def rounds_path(results_file: Path) -> Path:
    """Where the round sizes of a results file are kept: results/rounds/<machine>/<file name>."""
    return results_file.parent.parent / "rounds" / results_file.parent.name / results_file.name


def read_round_sizes(results_file: Path) -> dict[str, list[int]]:
    """label -> samples per round; {} when not recorded or unreadable (then one round)."""
    try:
        return json.loads(rounds_path(results_file).read_text())
    except (OSError, ValueError):
        return {}


def forget(results_file: Path, names) -> None:
    """Remove some benchmarks' results and recorded rounds from one results file, so that the next
    round starts them afresh (results of other benchmarks stay)."""
    names = set(names)
    if not names or not results_file.exists():
        return
    try:
        asvapi.remove_results(results_file, results_file.parent.name, names)
    except asvapi.AsvError as exc:
        raise ResultsError(str(exc)) from None
    recorded = read_round_sizes(results_file)
    kept = {key: sizes for key, sizes in recorded.items() if key.split("(")[0] not in names}
    if kept != recorded:
        _write_round_sizes(results_file, kept)


def record_round(results_file: Path, sizes_before: dict[str, int]) -> None:
    """After a round appended samples to `results_file`: note how many each benchmark gained."""
    run = _run_of_file(results_file)
    recorded = read_round_sizes(results_file)
    for (name, params), m in run.measurements.items():
        key = label(name, params)
        total = len(m.samples or ())
        gained = total - sizes_before.get(key, 0)
        if gained > 0 and sum(recorded.get(key, [])) == sizes_before.get(key, 0):
            recorded[key] = recorded.get(key, []) + [gained]
        elif gained > 0:  # earlier rounds unknown (not recorded): from here on, one unknown round
            recorded[key] = [total]
    _write_round_sizes(results_file, recorded)


def _write_round_sizes(results_file: Path, recorded: dict[str, list[int]]) -> None:
    path = rounds_path(results_file)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(recorded, indent=0))
    tmp.replace(path)


def commit_files(results_dir: Path, machine: str, commit: str) -> list[Path]:
    """The results files of one commit on one machine (one per environment)."""
    return sorted((Path(results_dir) / machine).glob(f"{commit[:8]}-*.json"))


def sample_counts(results_file: Path) -> dict[str, int]:
    if not results_file.exists():
        return {}
    return {label(n, p): len(m.samples or ()) for (n, p), m in _run_of_file(results_file).measurements.items()}


def _run_of_file(results_file: Path) -> Run:
    machine = results_file.parent.name
    try:
        result = asvapi.load_result(results_file, machine)
    except asvapi.AsvError as exc:
        raise ResultsError(str(exc)) from None
    return _run(result, machine, results_file)


def _run(result, machine: str, path: Path) -> Run:
    run = Run(path, machine, result.commit_hash, result.env_name, result.date or 0, dict(result.env_vars or {}))
    sizes = read_round_sizes(path)
    for name in result.get_all_result_keys():
        params = result.get_result_params(name)
        values = result.get_result_value(name, params)
        samples = result.get_result_samples(name, params)
        combos = list(itertools.product(*params)) if params else [()]
        for i, combo in enumerate(combos):
            value = values[i] if values and i < len(values) else None
            sample = samples[i] if samples and i < len(samples) else None
            run.measurements[(name, tuple(combo))] = Measurement(
                math.nan if value is None else float(value),
                tuple(float(s) for s in sample) if sample else None,
                result.benchmark_version.get(name),
                tuple(sizes[label(name, tuple(combo))]) if label(name, tuple(combo)) in sizes else None,
                (result.started_at or {}).get(name))
    return run


def runs(results_dir: Path = RESULTS_DIR, machine: str | None = None) -> list[Run]:
    """Every run of `machine` (default: this host's asv machine name) in `results_dir`."""
    machine = machine or asvapi.host_machine()
    found = []
    try:
        for path, result in asvapi.iter_machine_results(Path(results_dir), machine):
            found.append(_run(result, machine, path))
    except asvapi.AsvError as exc:
        raise ResultsError(str(exc)) from None
    return found


def runs_of(results_dir: Path, machine: str | None, commit: str, env_names=()) -> list[Run]:
    """The runs of one commit (optionally only some environments)."""
    chosen = [r for r in runs(results_dir, machine) if r.commit == commit
              and (not env_names or r.env_name in env_names)]
    return chosen


def require_machine(results_dir: Path, machine: str | None) -> str:
    """The machine to read (default: this host's, else the only one there); one that has no results is an
    error naming those that do."""
    known = asvapi.machines(Path(results_dir))
    machine = machine or (asvapi.host_machine() if asvapi.host_machine() in known or len(known) != 1 else known[0])
    if not (Path(results_dir) / machine / "machine.json").exists():
        known = asvapi.machines(Path(results_dir))
        raise ResultsError(f"no results of machine {machine!r} in {results_dir}"
                           + (f"; it has {', '.join(known)}: set MACHINE=<name>" if known else "; run: make bench"))
    return machine


def benchmark_info(results_dir: Path = RESULTS_DIR) -> dict:
    """benchmarks.json: for each benchmark its unit, type, parameter names and version."""
    try:
        return asvapi.benchmark_descriptions(Path(results_dir))
    except asvapi.AsvError as exc:
        raise ResultsError(str(exc)) from None


def label(name: str, params: tuple) -> str:
    """asv's own name for one parameter combination: name('processes', 1)."""
    return f"{name}({', '.join(params)})" if params else name


def format_params(params: tuple) -> str:
    return ", ".join(str(p).strip("'") for p in params)


def three_digits(x: float) -> str:
    """x to three significant digits, trailing zeros kept so that neighbours align: 1.00, 0.972, 1.03."""
    return f"{x:#.3g}".rstrip(".")


def format_value(value: float, unit: str) -> str:
    """A value for people: seconds in the largest unit that keeps it at 1 or more once rounded to
    three digits (0.9996 s is 1.00 s, not 1e+03 ms), whole seconds from 1,000 s."""
    if value is None or math.isnan(value):
        return "failed or skipped"
    if unit == "seconds":
        if value < 0:  # a journey's phase may run a hair backwards (within its clock's slack)
            return "-" + format_value(-value, unit)
        if value == 0:
            return "0 s"
        if value >= 999.5:
            return f"{value:,.0f} s"
        for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "us"), (1e-9, "ns")):
            shown = float(f"{value / scale:.3g}")
            if shown >= 1 or suffix == "ns":
                return f"{three_digits(shown)} {suffix}"
    if unit == "bytes":
        return f"{value / 2**20:,.0f} MiB"
    return f"{value:,.4g} {unit}"


def baseline_of(name: str, names) -> str | None:
    """`baselines.X.m` for a dask benchmark `<module>.X.m`, if there is one."""
    module, rest = name.split(".", 1)
    candidate = f"{BASELINE_MODULE}.{rest}"
    return candidate if module != BASELINE_MODULE and candidate in names else None


def paired_baseline(run: Run, name: str, params: tuple) -> tuple[str, float] | None:
    """The baseline benchmark of `name` and its value for the same parameters (or its only value,
    when the baseline has no parameters, e.g. plain Python beside every worker count)."""
    base = baseline_of(name, run.benchmarks)
    if base is None:
        return None
    values = {p: v for (n, p), v in run.values.items() if n == base}
    if params in values:
        return base, values[params]
    return (base, next(iter(values.values()))) if len(values) == 1 else None


# Measurements started further apart than this are of two sittings: on this kind of machine the same
# code measured another day ran 1.2x slower at the median, and the baselines up to 2.8x (issue 26).
SITTING_GAP_MS = 6 * 3600 * 1000


def same_sitting(a: Measurement, b: Measurement) -> bool:
    """Whether two measurements were taken in one sitting (unknown start: assumed so, as asv's own)."""
    return a.started_at is None or b.started_at is None or abs(a.started_at - b.started_at) <= SITTING_GAP_MS


def baseline_ratio(before: Run, after: Run) -> float | None:
    """How much the machine itself moved from one run to another: the median ratio (after / before)
    of the baselines both ran, which do not run dask; None without a common baseline."""
    common = [key for key in before.values if key[0].startswith("baselines.") and key in after.values
              and before.values[key] and after.values[key]]
    if not common:
        return None
    return statistics.median(after.values[key] / before.values[key] for key in common)


def machine_moved(today: Run, sitting: list[Run]) -> str | None:
    """One line when `today` (another sitting) meets the runs of one sitting and the baselines say the
    machine moved beyond what they moved within that sitting (at least 5%); None when it did not.
    Judged against the sitting's run of the same commit, else its newest."""
    reference = next((r for r in sitting if r.commit == today.commit), sitting[-1] if sitting else None)
    moved = baseline_ratio(reference, today) if reference else None
    if moved is None:
        return None
    within = [baseline_ratio(a, b) for a, b in itertools.combinations(sitting, 2)]
    spread = max((abs(math.log(r)) for r in within if r), default=0.0)
    if abs(math.log(moved)) <= max(2 * spread, math.log(1.05)):
        return None
    return (f"The machine moved: the baselines, which do not run dask, took {moved:.2f}x their time in the "
            f"committed history (which they kept within {math.exp(spread):.2f}x in its own sitting), so these "
            "numbers say nothing about distributed against the history: compare revisions with ./compare")
