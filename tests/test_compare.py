"""Verdicts, noise, config A/B, publish and report, with real asv and real builds of distributed.

The release history of two releases (from `make distributed-repo`) gets one more commit that this
module makes itself: a 15 ms sleep in distributed's task-submission path
(Client._graph_to_futures, which submit, map, compute and persist all go through). A subset of
benchmarks on the tiny dataset keeps `make test` short.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from conftest import ASV, PY, REPO, asv, run, write_asv_config

LATENCY = "futures.SubmitLatency.time_(submit_result|dependency_chain)"
THROUGHPUT = "as_completed.Throughput.track_tasks_per_second"
SUBSET = f"{LATENCY}|{THROUGHPUT}"
# 15 ms: a single submit round trip absorbs less than the client's 10 ms batched-send interval.
SLEEP = "import time; time.sleep(0.015)  # injected by the test: a slower submission path\n"


def git(repo: Path, *args, env=None) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True,
                          env={**os.environ, **(env or {})}).stdout.strip()


@pytest.fixture(scope="module")
def sleepy(asv_workspace, tmp_path_factory):
    """The release history plus a commit that slows down task submission, and an asv config of
    its own (results, html) sharing the session's asv environments."""
    ws = asv_workspace
    root = tmp_path_factory.mktemp("sleepy")
    repo = root / "distributed"
    git(root, "clone", "-q", str(ws["repo"]), str(repo))
    git(repo, "checkout", "-q", "-B", "main", "origin/main")
    client = repo / "distributed" / "client.py"
    text = client.read_text()
    anchor = "        with self._refcount_lock:\n            if actors is not None"
    assert anchor in text, "distributed's _graph_to_futures changed: update the injected sleep"
    client.write_text(text.replace(anchor, "        " + SLEEP + anchor, 1))
    date = "2026-09-01T12:00:00+00:00"
    git(repo, "commit", "-q", "-am", "Slow down task submission by 15 ms",
        env={"GIT_AUTHOR_NAME": "test", "GIT_AUTHOR_EMAIL": "t@localhost", "GIT_COMMITTER_NAME": "test",
             "GIT_COMMITTER_EMAIL": "t@localhost", "GIT_AUTHOR_DATE": date, "GIT_COMMITTER_DATE": date})
    config = write_asv_config(root / "asv.conf.json", repo=repo, env_dir=ws["env_dir"],
                              results_dir=root / "results", html_dir=root / "html")
    return {"root": root, "repo": repo, "config": config, "slow": git(repo, "rev-parse", "HEAD"),
            "env": {"DASK_BENCH_DATA_DIR": str(ws["data"]), "DASK_BENCH_WORKERS": "4"}}


def make_compare(sleepy, base, head, markdown: Path, factor="1.10"):
    return run("make", "compare", f"BASE={base}", f"HEAD={head}", f"FACTOR={factor}", f"BENCH={SUBSET}",
               f"ASV_CONFIG={sleepy['config']}", f"COMPARE_MD={markdown}", env=sleepy["env"], timeout=1800)


def flagged(markdown: str) -> list[str]:
    line = next((l for l in markdown.splitlines() if "regression(s)**" in l), "")
    return re.findall(r"`([^`]+)`", line)


@pytest.fixture(scope="module")
def slowdown(sleepy):
    markdown = sleepy["root"] / "compare-slowdown.md"
    proc = make_compare(sleepy, "2026.8.0", sleepy["slow"], markdown)
    return proc, markdown


def test_a_slower_submission_path_is_a_regression_naming_the_latency_benchmarks(slowdown):
    proc, markdown = slowdown
    assert proc.returncode != 0, proc.stdout[-4000:]
    assert "Error 1" in proc.stderr  # make reports the compare tool's exit status 1
    text = markdown.read_text()
    names = flagged(text)
    for name in ("futures.SubmitLatency.time_submit_result", "futures.SubmitLatency.time_dependency_chain"):
        assert any(n.startswith(name) for n in names), (name, names)
    # fewer tasks per second is a regression too: the rate fell
    assert any(n.startswith(THROUGHPUT) for n in names), names
    assert "| Change" in text and "(higher is better)" in text
    assert text.strip() in proc.stdout  # the same table is printed


def test_the_reverse_change_improves_and_exits_zero(sleepy, slowdown):
    markdown = sleepy["root"] / "compare-speedup.md"
    proc = make_compare(sleepy, sleepy["slow"], "2026.8.0", markdown)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    text = markdown.read_text()
    assert "**No regression**" in text
    # the tasks-per-second rise is an improvement, where asv's own compare would call it worse
    rows = [l for l in text.splitlines() if THROUGHPUT in l]
    assert rows and all(l.startswith("| -") for l in rows), rows
    asv_own = asv("compare", "--config", sleepy["config"], sleepy["slow"], "2026.8.0", "--factor", "1.10",
                  env=sleepy["env"])
    assert re.search(r"\|\s*\+\s*\|.*" + re.escape(THROUGHPUT), asv_own.stdout), "asv's compare marks it +"


def test_a_commit_against_itself_exits_zero(sleepy, slowdown):
    markdown = sleepy["root"] / "compare-same.md"
    proc = make_compare(sleepy, "2026.8.0", "2026.8.0", markdown)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "**No regression**" in markdown.read_text()


def test_bad_revision_and_factor_give_clear_errors(sleepy):
    proc = run(PY, "-m", "dask_bench.compare", "no-such-tag", "2026.8.0", "--config", sleepy["config"], "--no-run")
    assert proc.returncode == 2 and "no revision 'no-such-tag'" in proc.stderr and "2026.8.0" in proc.stderr
    proc = run(PY, "-m", "dask_bench.compare", "2026.8.0", "2026.8.0", "--config", sleepy["config"],
               "--factor", "0.9", "--no-run")
    assert proc.returncode == 2 and "FACTOR=0.9 must be above 1" in proc.stderr
    started = time.monotonic()
    proc = run("make", "compare", "BASE=2026.8.0")
    assert proc.returncode != 0 and "usage: make compare BASE=<rev> HEAD=<rev>" in proc.stdout
    assert time.monotonic() - started < 10, "the usage error must come before any work"
    proc = run("make", "noise")
    assert proc.returncode != 0 and "usage: make noise REV=<rev>" in proc.stdout


def test_noise_measures_one_commit_twice_and_reports_the_factor(sleepy, slowdown):
    workdir = sleepy["root"] / "noise"
    proc = run("make", "noise", "REV=2026.8.0", "BENCH=futures.SubmitLatency.time_submit_result",
               f"ASV_CONFIG={sleepy['config']}", f"NOISE_DIR={workdir}", env=sleepy["env"], timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    runs = [json.loads(p.read_text()) for p in sorted(workdir.glob("run-*/*/*.json")) if p.name != "machine.json"]
    assert len(runs) == 2, "two separate results, one per run"
    started = [r["results"]["futures.SubmitLatency.time_submit_result"][3] for r in runs]
    assert started[0] != started[1]
    match = re.search(r"Smallest FACTOR at which `make compare` flags nothing: \*\*(\d+\.\d\d)\*\*", proc.stdout)
    assert match and float(match.group(1)) >= 1.0
    for param in ("'processes'", "'threads'"):
        assert f"futures.SubmitLatency.time_submit_result({param})" in proc.stdout
    assert "| futures.SubmitLatency" in proc.stdout  # the per-family table


def test_config_ab_keeps_both_variants_apart(sleepy, slowdown):
    proc = run("make", "ab", "REV=2026.8.0", "VARIANT=queuing", "BENCH=futures.SubmitLatency.time_submit_result",
               f"ASV_CONFIG={sleepy['config']}", env=sleepy["env"], timeout=1800)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    saved = {p.name for p in (sleepy["root"] / "results").glob("*/*.json")}
    variable = "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION"
    assert any(name.endswith(f"{variable}1.1.json") for name in saved), saved
    assert any(name.endswith(f"{variable}inf.json") for name in saved), saved
    assert any(name.endswith("pandas.json") for name in saved), "the plain run is still there, untouched"
    assert f"{variable} 1.1 (A) -> inf (B)" in proc.stdout and "time_submit_result" in proc.stdout


@pytest.fixture(scope="module")
def published(sleepy, slowdown):
    """`asv publish` of this module's results (two commits), made self-contained, plus the report."""
    proc = asv("publish", "--config", sleepy["config"], env=sleepy["env"])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    html = sleepy["root"] / "html"
    vendor = run(PY, "-m", "dask_bench.vendor", html)
    assert vendor.returncode == 0, vendor.stderr
    return html


def test_published_site_needs_no_other_host(published):
    for page in published.glob("*.html"):
        assert not re.findall(r'(?:src|href)="https?://[^"]+\.(?:js|css)"', page.read_text()), page
    index = json.loads((published / "index.json").read_text())
    assert "futures.SubmitLatency.time_submit_result" in index["benchmarks"]


def test_report_plots_scaling_speedup_and_baselines(published, sleepy, tmp_path):
    # the plots need the throughput, speedup and baseline benchmarks: run them once on the newest release
    quick = asv("run", "--config", sleepy["config"], "--quick", "-b", "as_completed.Throughput.track|"
                "baselines|arrays.ComputePersist.track_persist_speedup|futures.SubmitLatency.time_submit_result",
                "2026.8.0^!", env={**sleepy["env"], "DASK_BENCH_WORKERS": "1,2"}, timeout=1200)
    assert quick.returncode == 0, quick.stdout[-3000:]
    proc = run(PY, "-m", "dask_bench.report", "--results", sleepy["root"] / "results", "--html", published,
               "--repo", sleepy["repo"])
    assert proc.returncode == 0, proc.stderr
    page = (published / "report" / "index.html").read_text()
    for image in ("throughput.png", "persist_speedup.png", "baselines.png"):
        assert (published / "report" / image).stat().st_size > 10_000 and f'src="{image}"' in page
    assert "2026.8.0" in page and "baselines.SubmitLatency.time_submit_result" in page
    assert 'href="report/index.html"' in (published / "index.html").read_text()


# -- the published site in a real browser -----------------------------------------------------

@pytest.fixture
def preview(published):
    proc = subprocess.Popen([PY, "-m", "dask_bench.preview", "--html", str(published), "--port", "0"],
                            cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line).group(0)
        yield proc, url
    finally:
        proc.terminate()
        proc.wait(10)


def test_preview_refuses_a_bad_port_clearly(published):
    proc = run(PY, "-m", "dask_bench.preview", "--html", published, "--port", "99999")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "make preview PORT=" in proc.stderr


def test_preview_listens_on_loopback_only(preview):
    import psutil

    proc, url = preview
    listening = [c.laddr for c in psutil.Process(proc.pid).net_connections() if c.status == psutil.CONN_LISTEN]
    assert listening and all(addr.ip == "127.0.0.1" for addr in listening), listening


def chromium(*args, profile: Path, timeout=120) -> subprocess.CompletedProcess:
    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("chromium is not installed: `make test` installs it (make browser)")
    return subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                           "--disable-component-update", "--disable-sync", "--no-first-run",
                           f"--user-data-dir={profile}", "--virtual-time-budget=20000", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_published_site_in_headless_chromium(preview, tmp_path):
    _, url = preview
    page = url + "#futures.SubmitLatency.time_submit_result"
    dom = chromium("--dump-dom", page, profile=tmp_path / "profile-dom").stdout
    assert "continental origin of swallow" not in dom, "asv's scripts did not load"
    listed = set(re.findall(r'href="#([a-z_]+\.[A-Za-z_]+\.[a-z_0-9]+)"', dom))
    assert "futures.SubmitLatency.time_submit_result" in listed and len(listed) >= 5, listed
    assert 'class="flot-base"' in dom and dom.count("flot-tick-label") >= 4, "no graph was drawn"
    shot = tmp_path / "time_submit_result.png"
    chromium("--window-size=1200,900", f"--screenshot={shot}", page, profile=tmp_path / "profile-shot")
    assert shot.exists(), "no screenshot"
    import matplotlib.image as mpimg
    import numpy as np

    pixels = mpimg.imread(shot)[..., :3]
    plot = pixels[240:755, 275:1150]  # inside the axes (not their frame), below the legend
    ink = plot.min(axis=2) < 0.7  # series lines and points; the background and grid lines are lighter
    assert ink.sum() > 300, f"only {ink.sum()} drawn pixels inside the graph's axes"
    print(f"screenshot: {shot}")
