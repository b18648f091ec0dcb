"""Shared fixtures: the tiny dataset, and running the suite's commands as real subprocesses."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PY = sys.executable


def run(*args, cwd=REPO, env=None, timeout=300, check=False, **kwargs) -> subprocess.CompletedProcess:
    """Run a command, capturing text output; `env` entries are added to the current environment."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run([str(a) for a in args], cwd=cwd, env=full_env, capture_output=True, text=True,
                          timeout=timeout, **kwargs)
    if check and proc.returncode != 0:
        raise AssertionError(f"{args} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def data_prep(*args, **kwargs) -> subprocess.CompletedProcess:
    return run(PY, "-m", "data_prep", *args, **kwargs)


@pytest.fixture(scope="session")
def tiny_data(tmp_path_factory) -> Path:
    """The tiny preset, generated once per test session; tests must not modify it."""
    data_dir = tmp_path_factory.mktemp("tiny-data")
    data_prep("--size", "tiny", "--data-dir", data_dir, check=True)
    return data_dir


# -- asv on a repository of distributed that a test makes ---------------------------------------

ASV = [PY, "-m", "asv"]


def asv(*args, env=None, timeout=900, **kwargs) -> subprocess.CompletedProcess:
    return run(*ASV, *args, env=env, timeout=timeout, **kwargs)


def write_asv_config(path: Path, **overrides) -> Path:
    """asv.conf.json with some keys changed, for asv runs that must not touch the repository's own
    results, environments or distributed checkout."""
    from dask_bench.host.asv_config import derive

    return derive(path, **overrides)


TWO_RELEASES = ("2026.7.1", "2026.8.0")


@pytest.fixture(scope="session")
def asv_machine():
    """asv keys results by machine and refuses to run without a machine file; make one if needed."""
    run(*ASV, "machine", "--yes", check=True)


@pytest.fixture(scope="session")
def asv_workspace(tmp_path_factory, tiny_data, asv_machine):
    """A release history of two distributed releases made by `make distributed-repo`, and one asv
    environment directory shared by every test that builds distributed (building an environment
    is the slow part)."""
    root = tmp_path_factory.mktemp("asv-workspace")
    repo = root / "distributed"
    proc = run("make", "distributed-repo", f"DISTRIBUTED_REPO_PATH={repo}",
               env={"DISTRIBUTED_RELEASES": " ".join(TWO_RELEASES)}, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return {"root": root, "repo": repo, "env_dir": root / "env", "data": tiny_data}
