"""The manifest: what was generated, how, and the answers the benchmarks must reproduce.

This module imports only the standard library: the benchmarks read the manifest inside asv's
environments, which do not have the suite's own tools (tqdm and friends).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

MANIFEST_NAME = "manifest.json"
GENERATOR_VERSION = 1
REPO_ROOT = Path(__file__).resolve().parent.parent
TMP_MARKER = ".partial-"  # temporary files are named .<final name>.partial-<pid>


class DataError(Exception):
    """Data missing or not as the manifest says; the message names the fix."""


def default_data_dir() -> Path:
    return Path(os.environ.get("DASK_BENCH_DATA_DIR") or REPO_ROOT / "data")


def generate_command(data_dir: Path, dataset: str = "all", preset: str | None = None, force=False) -> str:
    parts = ["python -m data_prep", f"--dataset {dataset}"]
    if preset:
        parts.append(f"--size {preset}")
    if Path(data_dir).resolve() != (REPO_ROOT / "data").resolve():
        parts.append(f"--data-dir {data_dir}")
    if force:
        parts.append("--force")
    return " ".join(parts)


def sha256_of(path: Path, block: int = 8 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(block):
            digest.update(chunk)
    return digest.hexdigest()


def load(data_dir: Path) -> dict:
    """The manifest as a dict, or an empty one (no datasets) when there is none."""
    path = Path(data_dir) / MANIFEST_NAME
    try:
        manifest = json.loads(path.read_text())
    except FileNotFoundError:
        return {"generator_version": GENERATOR_VERSION, "datasets": {}}
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} is unreadable ({exc}); regenerate with: "
                        f"{generate_command(data_dir, force=True)}") from None
    manifest.setdefault("datasets", {})
    return manifest


def save(data_dir: Path, manifest: dict) -> None:
    path = Path(data_dir) / MANIFEST_NAME
    tmp = path.with_name(f".{path.name}{TMP_MARKER}{os.getpid()}")
    tmp.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def dataset_entry(data_dir: Path, dataset: str) -> dict:
    """The manifest entry of one dataset, with a clear error naming the fix when it is missing."""
    entry = load(data_dir)["datasets"].get(dataset)
    if entry is None:
        raise DataError(f"dataset {dataset!r} not found in {Path(data_dir) / MANIFEST_NAME}; "
                        f"generate it with: {generate_command(data_dir, dataset)} (or: make data)")
    return entry


def check_files(data_dir: Path, dataset: str, *, deep: bool) -> list[str]:
    """Problems with a dataset's files: missing, wrong size, and with deep=True wrong sha256."""
    data_dir = Path(data_dir)
    manifest = load(data_dir)
    entry = manifest["datasets"].get(dataset)
    if entry is None:
        return [f"{dataset}: not in {data_dir / MANIFEST_NAME}; "
                f"generate it with: {generate_command(data_dir, dataset)}"]
    fix = generate_command(data_dir, dataset, entry.get("preset"), force=True)
    problems = []
    if entry.get("generator_version") != GENERATOR_VERSION:
        problems.append(f"{dataset}: made by generator version {entry.get('generator_version')}, "
                        f"this is version {GENERATOR_VERSION}; regenerate with: {fix}")
    for name, meta in sorted(entry["files"].items()):
        path = data_dir / name
        if not path.is_file():
            problems.append(f"{path}: missing; regenerate with: {fix}")
            continue
        size = path.stat().st_size
        if size != meta["size"]:
            problems.append(f"{path}: {size} bytes, manifest says {meta['size']} (truncated or altered); "
                            f"regenerate with: {fix}")
        elif deep and sha256_of(path) != meta["sha256"]:
            problems.append(f"{path}: sha256 differs from the manifest (altered); regenerate with: {fix}")
    return problems
