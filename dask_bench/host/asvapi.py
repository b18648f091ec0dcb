"""asv's Python API, private parts included: the only module of this suite that imports asv.

asv has no stable Python API; pyproject.toml pins asv and asv_runner to the minor versions this
module was tested with (asv 0.6, asv_runner 0.3). Everything else (compare, noise, ab, calibrate,
report, summary, history) goes through `dask_bench.host.results`, which reads results with this module.
"""

from __future__ import annotations

import json
from pathlib import Path

from asv.config import Config
from asv.machine import Machine
from asv.results import Results
from asv.util import UserError, load_json

from .cli import ToolError

__all__ = ["AsvError", "Results", "benchmark_descriptions", "config", "host_machine",
           "iter_machine_results", "load_json", "machines"]


class AsvError(ToolError):
    """asv refused something (a config, a results file): the message says what."""


def config(path: Path) -> Config:
    """asv.conf.json (or a derived one), with asv's own validation."""
    try:
        return Config.load(str(path))
    except UserError as exc:
        raise AsvError(f"{path}: {exc}") from None
    except (ValueError, OSError) as exc:
        raise AsvError(f"{path} is not a readable asv configuration ({' '.join(str(exc).split())[:160]}); "
                       "fix its JSON or restore it with git checkout") from None


def host_machine() -> str:
    """The machine name asv gives this host (its results go to results/<name>/)."""
    return Machine.get_unique_machine_name()


def host_cpu() -> str:
    """The processor asv records for this host (machine.json's "cpu"): instances of one machine kind
    differ, so a calibration keeps the one it was measured on."""
    return Machine.get_defaults().get("cpu") or "unknown"


def machines(results_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in Path(results_dir).glob("*/machine.json"))


def iter_machine_results(results_dir: Path, machine: str):
    """(path, Results) for every results file of one machine (one per commit and environment)."""
    for path in sorted((Path(results_dir) / machine).glob("*.json")):
        if path.name in ("machine.json", "benchmarks.json"):
            continue
        yield path, load_result(path, machine)


def load_result(path: Path, machine: str):
    try:
        return Results.load(str(path), machine_name=machine)
    except (UserError, ValueError, KeyError, TypeError) as exc:  # asv skips it with a warning; we stop
        raise AsvError(f"{path} is not a readable asv result ({' '.join(str(exc).split())[:120]}); "
                       f"restore it (git checkout -- {path}) or delete it") from None


def benchmark_descriptions(results_dir: Path) -> dict:
    """benchmarks.json (written by asv's discovery): unit, type, params and version per benchmark."""
    path = Path(results_dir) / "benchmarks.json"
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
    except ValueError as exc:
        raise AsvError(f"{path} is corrupt ({exc}); restore it (git checkout {path}) or rerun asv") from None
    data.pop("version", None)
    return data
