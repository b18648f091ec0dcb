"""Read asv's stored results (format version 2) for summaries, comparisons and reports.

One file per (machine, commit, environment): results/<machine>/<hash[:8]>-<env name>.json. Its
"results" map each benchmark to columns named by "result_columns"; "result" holds one value per
parameter combination (the median for time_ benchmarks, the returned value for track_ ones).
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO_ROOT / "results"


@dataclass
class Run:
    path: Path
    machine: str
    commit: str
    env_name: str
    date: int  # the commit's date, ms since the epoch
    env_vars: dict
    values: dict = field(default_factory=dict)   # (benchmark, params) -> value or nan
    stats: dict = field(default_factory=dict)    # (benchmark, params) -> {"q_25":…, "q_75":…, "samples": […]}

    @property
    def benchmarks(self) -> set[str]:
        return {name for name, _ in self.values}


def load_run(path: Path) -> Run:
    data = json.loads(Path(path).read_text())
    run = Run(Path(path), Path(path).parent.name, data["commit_hash"], data["env_name"], data.get("date") or 0,
              data.get("env_vars") or {})
    columns = data["result_columns"]
    for name, row in data["results"].items():
        entry = dict(zip(columns, row))
        params = entry.get("params") or []
        combos = list(itertools.product(*params)) if params else [()]
        results = entry.get("result")
        if results is None:
            results = [None] * len(combos)
        for i, combo in enumerate(combos):
            value = results[i] if i < len(results) else None
            run.values[(name, tuple(combo))] = math.nan if value is None else float(value)
            run.stats[(name, tuple(combo))] = {
                key: (entry.get(f"stats_{key}") or [None] * len(combos))[i] for key in ("q_25", "q_75")
            } | {"samples": ((entry.get("samples") or [None] * len(combos))[i])}
    return run


def runs(results_dir: Path = RESULTS_DIR, machine: str | None = None) -> list[Run]:
    found = []
    for path in sorted(Path(results_dir).glob("*/*.json")):
        if path.name == "machine.json" or (machine and path.parent.name != machine):
            continue
        found.append(load_run(path))
    return found


def benchmark_info(results_dir: Path = RESULTS_DIR) -> dict:
    """benchmarks.json: for each benchmark its unit, type and parameter names."""
    path = Path(results_dir) / "benchmarks.json"
    return json.loads(path.read_text()) if path.exists() else {}


def format_params(params: tuple) -> str:
    return ", ".join(str(p).strip("'") for p in params)


def format_value(value: float, unit: str) -> str:
    if value is None or math.isnan(value):
        return "failed or skipped"
    if unit == "seconds":
        for scale, suffix in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
            if value >= scale:
                return f"{value / scale:.3g} {suffix}"
        return f"{value * 1e9:.3g} ns"
    if unit == "bytes":
        return f"{value / 2**20:,.0f} MiB"
    return f"{value:,.4g} {unit}"


BASELINE_MODULE = "baselines"


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
