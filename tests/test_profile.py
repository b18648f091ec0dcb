"""python -m dask_bench.profile: the benchmarks' workloads under dask's performance report."""

from __future__ import annotations

import re

import pytest

from conftest import PY, run


@pytest.mark.parametrize("workload", ["chain", "bag", "sum-persisted"])
def test_profile_writes_a_performance_report(workload, tiny_data, tmp_path):
    report = tmp_path / f"{workload}.html"
    proc = run(PY, "-m", "dask_bench.profile", workload, "--repeat", "2", "--report", report,
               env={"DASK_BENCH_DATA_DIR": str(tiny_data)}, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert re.search(rf"^{workload} on 2 worker processes x 1 thread: [\d.]+ ms, [\d.]+ ms \(median", proc.stdout, re.M)
    page = report.read_text()
    assert "Dask Performance Report" in page
    # self-contained: BokehJS is inside the page, nothing is loaded from another host
    assert not re.findall(r'<script[^>]+src="https?://', page) and "Bokeh" in page


@pytest.mark.parametrize("args", [["--workers", "0"], ["--repeat", "0"]])
def test_profile_refuses_nothing_to_run(args):
    proc = run(PY, "-m", "dask_bench.profile", "submit", *args, timeout=30)
    assert proc.returncode == 2 and "is not a whole number of 1 or more" in proc.stderr


def test_profile_without_data_names_the_fix(tmp_path):
    proc = run(PY, "-m", "dask_bench.profile", "bag", env={"DASK_BENCH_DATA_DIR": str(tmp_path)})
    assert proc.returncode == 1 and "python -m data_prep --dataset accounts" in proc.stderr
    assert "Traceback" not in proc.stderr
