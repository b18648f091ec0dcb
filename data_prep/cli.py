"""python -m data_prep: generate, or verify, the datasets the benchmarks read."""

from __future__ import annotations

import argparse
import errno
import os
import sys
import time
from pathlib import Path

from . import accounts, random_array
from .files import check_free_space, remove_stale_partials
from .manifest import GENERATOR_VERSION, DataError, check_files, default_data_dir, load, save
from .presets import DATASETS, DEFAULT_PRESET, DEFAULT_SEED, PRESETS

GENERATORS = {"accounts": accounts.generate, "random": random_array.generate}


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, no usage dump
        self.exit(2, f"{self.prog}: error: {message} (see: python -m data_prep --help)\n")


def build_parser() -> argparse.ArgumentParser:
    sizes = ", ".join(f"{p.name}: {p.random_elements:,} array elements, {p.accounts_files} account files "
                      f"x {p.transactions_per_file:,} transactions" for p in PRESETS.values())
    parser = _Parser(
        prog="data_prep",
        description="Generate the Dask tutorial datasets (accounts JSON, random HDF5) deterministically. "
                    f"Presets: {sizes}.",
    )
    parser.add_argument("--dataset", choices=[*DATASETS, "all"], default="all")
    parser.add_argument("--size", choices=list(PRESETS), default=DEFAULT_PRESET,
                        help=f"preset (default: {DEFAULT_PRESET})")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where to write (default: $DASK_BENCH_DATA_DIR, else data/ at the repo root)")
    parser.add_argument("--seed", type=_seed, default=DEFAULT_SEED,
                        help=f"random seed, 0 or more (default: {DEFAULT_SEED})")
    parser.add_argument("--force", action="store_true", help="regenerate even if the data is up to date")
    parser.add_argument("--verify", action="store_true",
                        help="check every file's size and sha256 against the manifest; exit 1 on any mismatch")
    return parser


def _seed(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"invalid seed {text!r}: use a whole number, 0 or more")
    return int(text)


def _progress(*args, **kwargs):
    from tqdm import tqdm  # only the generator needs it, not the benchmarks that import this package

    return tqdm(*args, file=sys.stderr, disable=None, leave=False, **kwargs)


def up_to_date(entry: dict | None, data_dir: Path, dataset: str, preset: str, seed: int) -> bool:
    return (entry is not None and entry.get("preset") == preset and entry.get("seed") == seed
            and entry.get("generator_version") == GENERATOR_VERSION
            and not check_files(data_dir, dataset, deep=False))


def verify(data_dir: Path, datasets) -> int:
    problems = [p for d in datasets for p in check_files(data_dir, d, deep=True)]
    for problem in problems:
        print(f"data_prep: verify: {problem}", file=sys.stderr)
    if problems:
        return 1
    entries = load(data_dir)["datasets"]
    n_files = sum(len(entries[d]["files"]) for d in datasets)
    print(f"verified {n_files} files in {data_dir} against the manifest")
    return 0


def generate(data_dir: Path, datasets, preset_name: str, seed: int, force: bool) -> int:
    preset = PRESETS[preset_name]
    data_dir.mkdir(parents=True, exist_ok=True)
    remove_stale_partials(data_dir)
    manifest = load(data_dir)
    todo = [d for d in datasets
            if force or not up_to_date(manifest["datasets"].get(d), data_dir, d, preset_name, seed)]
    if not todo:
        print(f"{', '.join(datasets)}: up to date in {data_dir} (preset {preset_name}, seed {seed}); "
              "nothing to do (--force regenerates)")
        return 0
    check_free_space(data_dir, sum(preset.estimated_bytes(d) for d in todo))
    for dataset in todo:
        started = time.perf_counter()
        # Forget the old entry first: if this run is interrupted, nothing of this dataset verifies.
        old = manifest["datasets"].pop(dataset, None)
        save(data_dir, manifest)
        for name in (old or {}).get("files", {}):
            (data_dir / name).unlink(missing_ok=True)
        entry = GENERATORS[dataset](data_dir, preset, seed, _progress)
        entry.update(preset=preset_name, seed=seed, generator_version=GENERATOR_VERSION,
                     params=preset.params(dataset))
        manifest["datasets"][dataset] = entry
        manifest["generator_version"] = GENERATOR_VERSION
        save(data_dir, manifest)
        size = sum(f["size"] for f in entry["files"].values())
        n_files = len(entry["files"])
        print(f"{dataset}: wrote {n_files} file{'s' * (n_files != 1)}, {size / 1e6:,.1f} MB, in "
              f"{time.perf_counter() - started:.1f} s (preset {preset_name}, seed {seed}) to {data_dir}")
    return 0


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    data_dir = (args.data_dir or default_data_dir()).expanduser().absolute()
    datasets = DATASETS if args.dataset == "all" else (args.dataset,)
    try:
        if args.verify:
            return verify(data_dir, datasets)
        return generate(data_dir, datasets, args.size, args.seed, args.force)
    except KeyboardInterrupt:
        print("data_prep: interrupted; no partial file was kept", file=sys.stderr)
        return 130
    except (OSError, ValueError, DataError) as exc:
        print(f"data_prep: error: {_one_line(exc, data_dir)}", file=sys.stderr)
        return 1


def _one_line(exc: BaseException, data_dir: Path) -> str:
    if isinstance(exc, OSError) and exc.errno:
        # h5py's OSErrors carry a multi-line HDF5 report; the errno says all a user needs.
        where = exc.filename or data_dir
        hint = "free some disk space" if exc.errno == errno.ENOSPC else "check the path"
        return f"{os.strerror(exc.errno)}: {where}; {hint} or choose another --data-dir"
    return " ".join(str(exc).split())
