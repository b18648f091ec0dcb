"""The one reader of asv's stored results, for history, report, summary and publish.

One file per (machine, commit, environment): results/<machine>/<hash[:8]>-<env name>.json, loaded
with asv's own loader (dask_bench.host.asvapi). A Run holds, per benchmark and parameter combination,
the median (time_) or value (track_), the raw samples when asv recorded them (`--record-samples`,
which every command here passes), the benchmark's version (its code identity) and when it started.
"""

from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass, field
from pathlib import Path

from . import asvapi
from .asv_config import REPO_ROOT
from .cli import ToolError

RESULTS_DIR = REPO_ROOT / "results"
BASELINE_MODULE = "baselines"


class ResultsError(ToolError):
    """No usable results where asked: the message names the fix."""


@dataclass(frozen=True)
class Measurement:
    value: float                        # median of the samples, or a track_ value; nan: failed or skipped
    samples: tuple[float, ...] | None   # every sample of a time_ benchmark, when recorded
    version: str | None                 # the benchmark's code identity when it ran
    started_at: float | None = None     # when asv started measuring it, ms since the epoch

    @property
    def ok(self) -> bool:
        return not math.isnan(self.value)


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


def _run(result, machine: str, path: Path) -> Run:
    run = Run(path, machine, result.commit_hash, result.env_name, result.date or 0, dict(result.env_vars or {}))
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
                result.benchmark_version.get(name), (result.started_at or {}).get(name))
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
