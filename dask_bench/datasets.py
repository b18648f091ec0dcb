"""The datasets the benchmarks read, found through the manifest that `python -m data_prep` writes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import json

from data_prep.manifest import DataError, check_files, dataset_entry, default_data_dir, load

__all__ = ["Accounts", "DataError", "RandomArray", "accounts", "identity", "random_array"]


@dataclass(frozen=True)
class Accounts:
    paths: tuple[str, ...]
    name: str          # whose mean amount is checked
    mean_amount: float  # the answer, computed by the generator
    preset: str


@dataclass(frozen=True)
class RandomArray:
    path: str
    dataset: str
    elements: int
    sum: float  # the answer, computed by the generator in float64
    preset: str


def _entry(dataset: str, data_dir: Path | None) -> tuple[Path, dict]:
    data_dir = Path(data_dir or default_data_dir())
    entry = dataset_entry(data_dir, dataset)  # raises naming `python -m data_prep` when missing
    problems = check_files(data_dir, dataset, deep=False)
    if problems:
        raise DataError(problems[0])
    return data_dir, entry


def accounts(data_dir: Path | None = None) -> Accounts:
    data_dir, entry = _entry("accounts", data_dir)
    expected = entry["expected"]
    return Accounts(tuple(str(data_dir / name) for name in sorted(entry["files"])),
                    expected["name"], expected["mean_amount"], entry["preset"])


def random_array(data_dir: Path | None = None) -> RandomArray:
    data_dir, entry = _entry("random", data_dir)
    (name, meta), = entry["files"].items()
    return RandomArray(str(data_dir / name), entry["params"]["dataset"], meta["elements"],
                       entry["expected"]["sum"], entry["preset"])


def identity(data_dir: Path | None = None) -> str:
    """What the benchmarks' results depend on in the data: preset, seed, generator and parameters of
    each dataset present (part of every benchmark's asv version; "" when there is no data yet)."""
    try:
        datasets = load(Path(data_dir or default_data_dir()))["datasets"]
    except (DataError, OSError, ValueError, KeyError):
        return ""
    return json.dumps({name: {key: entry.get(key) for key in ("preset", "seed", "generator_version", "params")}
                       for name, entry in sorted(datasets.items())}, sort_keys=True)
