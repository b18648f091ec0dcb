"""Settings read from the environment, validated with errors that name the fix."""

from __future__ import annotations

import os

DEFAULT_WORKERS = "1,2,4"


class SettingsError(ValueError):
    """A DASK_BENCH_* variable has a value the suite cannot use."""


def worker_counts(value: str | None = None) -> list[int]:
    """DASK_BENCH_WORKERS: the worker counts of the scaling benchmarks, e.g. "1,2,4"."""
    raw = os.environ.get("DASK_BENCH_WORKERS", DEFAULT_WORKERS) if value is None else value
    counts = []
    for part in raw.split(","):
        part = part.strip()
        if not part.isdigit() or int(part) < 1:
            raise SettingsError(
                f"DASK_BENCH_WORKERS={raw!r} is invalid: {part!r} is not a positive whole number. "
                f"Set comma-separated worker counts, e.g. DASK_BENCH_WORKERS={DEFAULT_WORKERS}, "
                "or unset it for the default")
        if int(part) not in counts:
            counts.append(int(part))
    return counts


def scheduler_address() -> str | None:
    """DASK_BENCH_SCHEDULER: run on this existing cluster instead of a LocalCluster."""
    return os.environ.get("DASK_BENCH_SCHEDULER") or None


def check() -> list[str]:
    """Everything a run needs from the environment, as one-line problems (empty: all good)."""
    from data_prep.manifest import DataError, check_files, default_data_dir, generate_command

    problems = []
    try:
        worker_counts()
    except SettingsError as exc:
        problems.append(str(exc))
    data_dir = default_data_dir()
    for dataset in ("accounts", "random"):
        try:
            problems.extend(check_files(data_dir, dataset, deep=False)[:1])
        except DataError as exc:
            problems.append(str(exc))
    if problems and any("not in" in p for p in problems):
        problems.append(f"generate the data with: {generate_command(data_dir)} (or: make data)")
    address = scheduler_address()
    if address:
        problems.extend(_unreachable(address))
    return problems


def _unreachable(address: str, timeout: str = "5s") -> list[str]:
    from distributed import Client

    try:
        with Client(address, timeout=timeout) as client:
            if not client.scheduler_info(n_workers=-1)["workers"]:
                return [f"DASK_BENCH_SCHEDULER={address} has no workers; start some (dask worker {address})"]
    except (OSError, TimeoutError) as exc:
        return [f"cannot connect to DASK_BENCH_SCHEDULER={address} ({' '.join(str(exc).split())[:120]}); "
                "start that scheduler or unset DASK_BENCH_SCHEDULER to use a LocalCluster"]
    return []


if __name__ == "__main__":  # python -m dask_bench.settings: exit 1 with the problems, one per line
    import sys

    found = check()
    for problem in found:
        print(f"dask_bench: {problem}", file=sys.stderr)
    sys.exit(1 if found else 0)
