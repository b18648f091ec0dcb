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
