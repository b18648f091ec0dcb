"""Reliability, provoked for real: signals sent to real runs mid-benchmark, a worker killed, a
scheduler that goes away, a task that cannot be unpickled, an unreachable package index, bad input."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import psutil
import pytest

from conftest import PY, REPO, TWO_RELEASES, run, write_asv_config
from test_suite import assert_nothing_left, external, processes_with, run_env

pytestmark = pytest.mark.slow  # real asv runs or clusters: make test, not make test-fast


def git_rev(repo: Path, rev: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "rev-parse", rev], capture_output=True, text=True,
                          check=True).stdout.strip()


def start(args, env: dict, log: Path) -> subprocess.Popen:
    """A command in a process group of its own (as a terminal's foreground job), output to `log`."""
    with open(log, "w") as out:
        return subprocess.Popen([str(a) for a in args], cwd=REPO, env={**os.environ, **env}, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True)


def wait_for_event(events: Path, kind: str, timeout: float = 300, count: int = 1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if events.exists() and sum(json.loads(l)["event"] == kind for l in events.read_text().splitlines()) >= count:
            return
        time.sleep(0.2)
    raise AssertionError(f"no {kind!r} event within {timeout} s")


def stop_group(proc: subprocess.Popen, signum: int, within: float = 10) -> float:
    """Send `signum` to the job's process group; return how long it took to end (asserting `within`)."""
    started = time.monotonic()
    os.killpg(proc.pid, signum)
    try:
        proc.wait(within + 20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        raise AssertionError(f"still running {within + 20} s after {signal.Signals(signum).name}")
    took = time.monotonic() - started
    assert took <= within, f"took {took:.1f} s to stop after {signal.Signals(signum).name}"
    return took


def results_snapshot(results: Path) -> dict:
    """Every stored result (not benchmarks.json, asv's discovery, nor machine.json, the machine's
    description: asv rewrites both on every run, the latter with this host's kernel and memory)."""
    return {p: p.read_bytes() for p in results.glob("*/*.json") if p.name != "machine.json"}


@pytest.fixture
def stored_results(tmp_path) -> Path:
    """A results directory that already holds results (copied from the committed ones)."""
    results = tmp_path / "results"
    shutil.copytree(REPO / "results", results)
    return results


# -- stop on request ---------------------------------------------------------------------------

def test_ctrl_c_stops_an_asv_run_mid_benchmark_and_leaves_nothing(asv_workspace, stored_results, tmp_path):
    ws = asv_workspace
    marker = {"DASK_BENCH_TEST_RUN": f"sigint-{os.getpid()}"}
    events = tmp_path / "events.jsonl"
    config = write_asv_config(tmp_path / "asv.json", repo=ws["repo"], results_dir=stored_results,
                              html_dir=tmp_path / "html")
    before = results_snapshot(stored_results)
    env = run_env(ws["data"], tmp_path, marker, DASK_BENCH_EVENTS=str(events), DASK_BENCH_WORKERS="2")
    proc = start([PY, "-m", "dask_bench.host.asv_run", "--results", stored_results, "--", "run", "--config", config,
                  "--python=same", "--set-commit-hash", git_rev(ws["repo"], "2026.8.0"), "--record-samples",
                  "-b", "as_completed.Throughput"], env, tmp_path / "log")
    wait_for_event(events, "start")
    time.sleep(1)  # mid-sample
    stop_group(proc, signal.SIGINT)
    assert proc.returncode == 130, (tmp_path / "log").read_text()[-2000:]
    assert "results stored before are intact" in (tmp_path / "log").read_text()
    assert_nothing_left(marker, tmp_path / "tmp", within=5)
    after = results_snapshot(stored_results)
    assert {p: b for p, b in after.items() if p in before} == before, "results stored before changed"
    for path in after:
        json.loads(path.read_text())  # no half-written file


# The package index and npm registry refused: once set up, these commands need no network.
OFFLINE = {"DISTRIBUTED_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
           "DASK_BENCH_NPM_REGISTRY": "http://127.0.0.1:9"}


@pytest.mark.parametrize("how", ["make bench offline + SIGINT", "make compare offline + SIGINT", "./compare + SIGTERM",
                                 "make history + SIGINT", "make ab offline + SIGINT"])
def test_measuring_commands_stop_within_seconds_on_a_signal(asv_workspace, tmp_path, how):
    ws = asv_workspace
    marker = {"DASK_BENCH_TEST_RUN": f"{how}-{os.getpid()}"}
    events = tmp_path / "events.jsonl"
    config = write_asv_config(tmp_path / "asv.json", repo=ws["repo"], env_dir=ws["env_dir"],
                              results_dir=tmp_path / "results", html_dir=tmp_path / "html")
    env = run_env(ws["data"], tmp_path, marker, DASK_BENCH_EVENTS=str(events), DASK_BENCH_WORKERS="1",
                  ASV_CONFIG=str(config), **(OFFLINE if "offline" in how else {}))
    bench = "as_completed.Throughput"
    if how.startswith("make bench"):
        args = ["make", "bench", f"BENCH={bench}", "SIZE=tiny"]
        signum, code = signal.SIGINT, None
    elif how.startswith("make ab"):
        args = ["make", "ab", "REV=2026.8.0", f"BENCH={bench}"]
        signum, code = signal.SIGINT, None
    elif how.startswith("make compare"):
        args = ["make", "compare", "BASE=2026.7.1", "HEAD=2026.8.0", f"BENCH={bench}", f"COMPARE_MD={tmp_path / 'c.md'}",
                f"COMPARE_DIR={ws['root'] / 'compare'}"]
        signum, code = signal.SIGINT, None  # make reports the interruption its own way
        # set up online first (both sides' environments), as a user would before going offline
        built = run(*args, "BUILD_ONLY=1", env={k: v for k, v in env.items() if k not in OFFLINE}, timeout=900)
        assert built.returncode == 0 and not (tmp_path / "c.md").exists(), built.stdout[-2000:] + built.stderr[-2000:]
    elif how.startswith("make history"):
        args = ["make", "history", "ASV_RUNS=1", f"BENCH={bench}"]
        signum, code = signal.SIGINT, None
    else:
        # the make compare case's workdir: its HEAD environment, built there, is reused
        args = [REPO / "compare", "2026.7.1", "2026.8.0", "-b", bench, "--config", config,
                "--workdir", ws["root"] / "compare", "--markdown", tmp_path / "c.md"]
        signum, code = signal.SIGTERM, 128 + signal.SIGTERM
    proc = start(args, env, tmp_path / "log")
    wait_for_event(events, "start")
    time.sleep(1)
    stop_group(proc, signum)
    # make itself may end at once on SIGTERM: the tool it ran finishes stopping (and says so) after it
    assert_nothing_left(marker, tmp_path / "tmp", within=5)
    log = (tmp_path / "log").read_text()
    if code is not None:
        assert proc.returncode == code, log[-2000:]
    assert proc.returncode != 0 and "stopped" in log, log[-2000:]


# -- no hangs ----------------------------------------------------------------------------------

def benchmark_children(marker: dict) -> list[psutil.Process]:
    """The worker processes of the LocalCluster a benchmark started."""
    return [p for p in processes_with(marker) if "spawn_main" in " ".join(p.cmdline())
            and "resource_tracker" not in " ".join(p.cmdline())]


def test_a_worker_killed_mid_benchmark_fails_it_saying_so_and_the_next_runs_fresh(tiny_data, tmp_path, asv_machine):
    marker = {"DASK_BENCH_TEST_RUN": f"kill-worker-{os.getpid()}"}
    events = tmp_path / "events.jsonl"
    config = write_asv_config(tmp_path / "asv.json", results_dir=tmp_path / "results", html_dir=tmp_path / "html")
    env = run_env(tiny_data, tmp_path, marker, DASK_BENCH_EVENTS=str(events), DASK_BENCH_WORKERS="2")
    proc = start([PY, "-m", "asv", "run", "--config", config, "--python=same", "--dry-run", "--show-stderr",
                  "-a", "rounds=1", "-b", "as_completed.Throughput"], env, tmp_path / "log")
    wait_for_event(events, "start")
    time.sleep(0.5)
    victims = benchmark_children(marker)
    assert victims, "no worker process found"
    started = time.monotonic()
    victims[0].kill()
    proc.wait(240)
    log = (tmp_path / "log").read_text()
    # named as the cause even when the kill lands after the sample's last watchdog poll (teardown
    # asks the watchdog before checking the tasks the workers ran)
    assert "cluster failure: worker" in log and "died during Throughput" in log, log[-3000:]
    assert "tasks in one sample, expected" not in log, log[-3000:]
    starts = [json.loads(l) for l in events.read_text().splitlines() if json.loads(l)["event"] == "start"]
    assert len(starts) == 2 and starts[0]["pid"] != starts[1]["pid"], "the next benchmark runs on a fresh cluster"
    assert "1/2 failed" in log, log[-3000:]  # the killed one failed, the other parameter ran
    assert time.monotonic() - started < 120
    assert_nothing_left(marker, tmp_path / "tmp")


def test_a_scheduler_that_goes_away_fails_the_benchmark_saying_so(tiny_data, tmp_path, asv_machine):
    marker = {"DASK_BENCH_TEST_RUN": f"kill-scheduler-{os.getpid()}"}
    events = tmp_path / "events.jsonl"
    config = write_asv_config(tmp_path / "asv.json", results_dir=tmp_path / "results", html_dir=tmp_path / "html")
    with external(tmp_path) as address:
        scheduler = next(p for p in psutil.process_iter(["cmdline"])
                         if p.info["cmdline"] and "scheduler" in p.info["cmdline"] and str(tmp_path) in
                         " ".join(p.info["cmdline"]))
        env = run_env(tiny_data, tmp_path, marker, DASK_BENCH_EVENTS=str(events), DASK_BENCH_WORKERS="1",
                      DASK_BENCH_SCHEDULER=address)
        proc = start([PY, "-m", "asv", "run", "--config", config, "--python=same", "--dry-run", "--show-stderr",
                      "-a", "rounds=1", "-b", "as_completed.Throughput"], env, tmp_path / "log")
        wait_for_event(events, "warm")
        time.sleep(0.5)
        started = time.monotonic()
        scheduler.kill()
        proc.wait(300)
    log = (tmp_path / "log").read_text()
    # distributed itself cancels the futures at once, saying why; the watchdog covers a silent loss
    assert ("lost the connection to the scheduler" in log
            or "cluster failure: lost the scheduler during Throughput" in log), log[-3000:]
    assert time.monotonic() - started < 120
    assert "cannot connect to DASK_BENCH_SCHEDULER" in log, "the next benchmark says the scheduler is gone"
    assert_nothing_left(marker, tmp_path / "tmp")


UNPICKLABLE = '''"""A task that cannot be unpickled on a worker (test only)."""
from .common import ClusterBenchmark


def _refuse():
    raise RuntimeError("this task refuses to be unpickled")


class Poison:
    def __call__(self):
        return 1

    def __reduce__(self):
        return _refuse, ()


class Unpicklable(ClusterBenchmark):
    answers = {"one": 1}

    def time_submit(self):
        self.got_one = self.client.submit(Poison(), pure=False).result()
'''


def test_a_task_that_cannot_be_unpickled_fails_the_benchmark_saying_so(tiny_data, tmp_path, asv_machine):
    suite = tmp_path / "suite"
    for part in ("benchmarks", "dask_bench", "data_prep"):
        shutil.copytree(REPO / part, suite / part, ignore=shutil.ignore_patterns("__pycache__"))
    (suite / "benchmarks" / "unpicklable.py").write_text(UNPICKLABLE)
    marker = {"DASK_BENCH_TEST_RUN": f"unpickle-{os.getpid()}"}
    config = write_asv_config(tmp_path / "asv.json", results_dir=tmp_path / "results", html_dir=tmp_path / "html",
                              benchmark_dir=suite / "benchmarks")
    started = time.monotonic()
    proc = run(PY, "-m", "asv", "run", "--config", config, "--python=same", "--dry-run", "--show-stderr",
               "-a", "rounds=1", "-b", "unpicklable", env=run_env(tiny_data, tmp_path, marker), timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "failed" in out
    assert "this task refuses to be unpickled" in out, out[-3000:]
    assert time.monotonic() - started < 120
    assert_nothing_left(marker, tmp_path / "tmp")


# -- offline once set up -----------------------------------------------------------------------

REFUSED = "http://127.0.0.1:9/simple"  # the discard port: connections are refused at once


def test_the_release_history_needs_no_index_once_it_is_there(asv_workspace):
    started = time.monotonic()
    proc = run("make", "distributed-repo", f"DISTRIBUTED_REPO_PATH={asv_workspace['repo']}",
               env={"DISTRIBUTED_RELEASES": " ".join(TWO_RELEASES), "DISTRIBUTED_INDEX_URL": REFUSED})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "using the history already here" in proc.stderr and time.monotonic() - started < 30
    other = asv_workspace["root"] / "no-history-yet"
    proc = run(PY, "-m", "dask_bench.host.release_history", "--path", other, "--releases", "2026.8.0",
               "--index-url", REFUSED)
    assert proc.returncode == 2 and "cannot list distributed releases" in proc.stderr and not other.exists()


def test_a_fresh_clone_publishes_the_committed_results_then_does_so_offline(tmp_path):
    """No .asv/ at first: make report makes the release history and publishes the committed results.
    Then, with the package index and the npm registry refused, it does it again from the caches."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    assert not (clone / ".asv").exists()
    venv = f"VENV={REPO / '.venv'}"  # the installed suite; everything else comes from the clone
    os.utime(clone / "pyproject.toml", (0, 0))  # installed already: make must not reinstall from the clone
    proc = run("make", "-C", clone, "report", venv, "MACHINE=vm", timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    page = (clone / "html" / "report" / "index.html").read_text()
    assert "Machine vm" in page and "2026.8.0" in page
    shutil.rmtree(clone / "html")
    offline = {"DISTRIBUTED_INDEX_URL": REFUSED, "DASK_BENCH_NPM_REGISTRY": "http://127.0.0.1:9",
               "PIP_INDEX_URL": REFUSED}
    proc = run("make", "-C", clone, "report", venv, "MACHINE=vm", env=offline, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "using the history already here" in proc.stderr
    assert "Machine vm" in (clone / "html" / "report" / "index.html").read_text()


def test_make_bench_in_a_fresh_clone_stores_its_run_apart_and_leaves_git_status_clean(asv_workspace, tmp_path):
    """make bench stores its run with this machine's own runs (.asv/results, machine local-<host>),
    never in the committed results/, so git status stays clean; its report shows the run as this
    machine, today, beside the committed history."""
    import socket

    ws = asv_workspace
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    os.utime(clone / "pyproject.toml", (0, 0))  # installed already: make must not reinstall from the clone
    # the session's distributed and asv environment; no committed results of its two commits to publish
    config = write_asv_config(tmp_path / "asv.json", repo=ws["repo"], env_dir=ws["env_dir"],
                              results_dir=tmp_path / "no-results", html_dir=clone / "html")
    proc = run("make", "-C", clone, "bench", f"VENV={REPO / '.venv'}", "SIZE=tiny", r"BENCH=^baselines\.SubmitLatency",
               f"ASV_CONFIG={config}", env={"DASK_BENCH_WORKERS": "1"}, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    status = subprocess.run(["git", "-C", str(clone), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == "", status.stdout
    machine = f"local-{socket.gethostname()}"
    stored = [p for p in (clone / ".asv" / "results" / machine).glob("*.json") if p.name != "machine.json"]
    assert len(stored) == 1 and "baselines.SubmitLatency.time_submit_result" in stored[0].read_text()
    assert f"This machine, today ({machine})" in (clone / "html" / "report" / "index.html").read_text()
    assert f"{machine}, distributed" in proc.stdout  # the summary of this machine's run


# -- bad input: one line naming the fix, within seconds, nothing written --------------------------

def one_line_error(proc, *expected):
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Traceback" not in out, out[-2000:]
    for text in expected:
        assert text in out, out[-2000:]


@pytest.fixture
def readonly_dir(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("a read-only mount needs root (CI runs as root)")
    target = tmp_path / "readonly"
    target.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(target)], check=True)
    yield target
    subprocess.run(["umount", str(target)], check=True)


def test_bad_input_gives_one_line_naming_the_fix(tiny_data, tmp_path, readonly_dir):
    env = {"DASK_BENCH_DATA_DIR": str(tiny_data)}
    # a results directory that cannot be written
    config = write_asv_config(tmp_path / "ro.json", results_dir=readonly_dir / "results")
    started = time.monotonic()
    proc = run(PY, "-m", "dask_bench.host.preflight", "--config", config, env=env, timeout=30)
    one_line_error(proc, "cannot write results to", "make it writable")
    # a corrupt result file
    results = tmp_path / "results"
    shutil.copytree(REPO / "results", results)
    victim = next(p for p in results.glob("*/*.json") if p.name != "machine.json")
    victim.write_text("{ not json")
    config = write_asv_config(tmp_path / "corrupt.json", results_dir=results)
    proc = run(PY, "-m", "dask_bench.host.preflight", "--config", config, env=env, timeout=30)
    one_line_error(proc, f"{victim} is not a readable asv result", "git checkout --")
    # an asv.conf.json that does not parse
    broken = tmp_path / "broken.conf.json"
    broken.write_text('{"version": 1, "repo": ')
    proc = run(PY, "-m", "dask_bench.host.preflight", "--config", broken, env=env, timeout=30)
    one_line_error(proc, f"{broken}")
    proc = run(REPO / "compare", "2026.8.0", "2026.8.0", "--config", broken, env=env, timeout=60)
    assert proc.returncode == 2
    one_line_error(proc, "compare: error:", str(broken))
    # a DISTRIBUTED_REPO that is not a repository of distributed
    other = tmp_path / "other-repo"
    other.mkdir()
    for args in (["init", "-q", "-b", "main"], ["commit", "-q", "--allow-empty", "-m", "x"]):
        subprocess.run(["git", "-C", str(other), *args], check=True, capture_output=True,
                       env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@l",
                            "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@l"})
    target = tmp_path / "mirror"
    proc = run(PY, "-m", "dask_bench.host.release_history", "--path", target, "--clone", other, timeout=30)
    one_line_error(proc, "is not a repository of Dask distributed", "DISTRIBUTED_REPO")
    assert not target.exists(), "nothing written"
    assert time.monotonic() - started < 60
