"""The asv suite through real asv commands, on the tiny dataset, against the installed distributed."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psutil
import pytest

from conftest import ASV, PY, REPO, TWO_RELEASES, asv, run, write_asv_config

pytestmark = pytest.mark.slow  # real asv runs or clusters: make test, not make test-fast


@pytest.fixture
def marker():
    """An environment variable that every process of a run inherits, to find leftovers."""
    return {"DASK_BENCH_TEST_RUN": uuid.uuid4().hex}


def processes_with(marker: dict) -> list[psutil.Process]:
    (key, value), = marker.items()
    found = []
    for proc in psutil.process_iter():
        try:
            if proc.pid != os.getpid() and proc.environ().get(key) == value:
                found.append(proc)
        except psutil.Error:
            pass
    return found


def assert_nothing_left(marker: dict, tmpdir: Path, within: float = 20) -> None:
    """No process of the run survives it (the janitor gets a few seconds), no scratch dir stays."""
    deadline = time.monotonic() + within
    while (left := processes_with(marker)) and time.monotonic() < deadline:
        time.sleep(0.25)
    assert not left, [p.cmdline() for p in left]
    leftovers = [p.name for p in tmpdir.iterdir() if p.name.startswith(("dask-bench-", "dask-scratch-space"))]
    assert not leftovers


@pytest.fixture
def same(tmp_path, asv_machine) -> list:
    """`--config X --python=same`: asv on the installed distributed, saving benchmarks.json (and
    anything else) in this test's own results directory, never the repository's."""
    config = write_asv_config(tmp_path / "asv.conf.json", results_dir=tmp_path / "results",
                              html_dir=tmp_path / "html")
    return ["--config", str(config), "--python=same"]


def run_env(tiny_data, tmp_path, marker, **extra) -> dict:
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir(exist_ok=True)
    return {"DASK_BENCH_DATA_DIR": str(tiny_data), "TMPDIR": str(tmpdir), **marker, **extra}


def test_asv_check_finds_every_family(same, tmp_path):
    proc = asv("check", *same)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # discovery writes every benchmark's description to benchmarks.json (one quick benchmark runs)
    discover = asv("run", *same, "--quick", "--dry-run", "--bench", "baselines.SubmitLatency")
    assert discover.returncode == 0, discover.stderr
    discovered = json.loads((tmp_path / "results" / "benchmarks.json").read_text())
    families = {name.rsplit(".", 1)[0] for name in discovered if name != "version"}
    assert {"futures.SubmitLatency", "arrays.ComputePersist", "bags.AccountsBag", "as_completed.Throughput",
            "as_completed.RosenbrockSearch", "errors.ErrorPath", "baselines.SubmitLatency",
            "baselines.ComputePersist", "baselines.AccountsBag", "baselines.Throughput"} <= families


def test_the_committed_benchmark_list_is_what_asv_discovers_today(tmp_path, asv_machine):
    """results/benchmarks.json (names, parameters, versions) is current: a change to a benchmark's
    code changes its version, and `make discover` records it, writing nothing else. A version covers
    the data's preset and seed, of which it reads only the manifest: written here as the generator
    writes it for the default datasets (the committed history's); other data is refused."""
    from data_prep.manifest import GENERATOR_VERSION
    from data_prep.presets import DATASETS, DEFAULT_PRESET, DEFAULT_SEED, PRESETS

    def manifest(preset: str) -> Path:
        data = tmp_path / f"data-{preset}"
        data.mkdir()
        (data / "manifest.json").write_text(json.dumps({"datasets": {
            name: {"preset": preset, "seed": DEFAULT_SEED, "generator_version": GENERATOR_VERSION,
                   "params": PRESETS[preset].params(name)} for name in DATASETS}}))
        return data

    out = tmp_path / "results"
    command = [PY, "-m", "dask_bench.host.asv_run", "--discover", REPO / "asv.conf.json", "--results", out]
    proc = run(*command, env={"DASK_BENCH_DATA_DIR": str(manifest(DEFAULT_PRESET))})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert [p.name for p in out.iterdir()] == ["benchmarks.json"]
    assert json.loads((out / "benchmarks.json").read_text()) == json.loads(
        (REPO / "results" / "benchmarks.json").read_text()), "results/benchmarks.json is stale: make discover"
    assert not list(Path(tempfile.gettempdir()).glob("dask-bench-discover-*")), "its scratch folder is removed"
    (out / "benchmarks.json").unlink()
    refused = run(*command, env={"DASK_BENCH_DATA_DIR": str(manifest("tiny"))})
    assert refused.returncode == 2 and f"make data SIZE={DEFAULT_PRESET}" in refused.stderr, refused.stderr
    assert "Traceback" not in refused.stderr and not list(out.iterdir())


def test_every_benchmark_runs_once_and_leaves_nothing_behind(tiny_data, tmp_path, marker, same):
    from dask_bench.policy import selection_regex

    DEFAULT, LOAD = selection_regex("default"), selection_regex("load")
    env = run_env(tiny_data, tmp_path, marker, DASK_BENCH_WORKERS="1,2")
    proc = asv("run", *same, "--quick", "--dry-run", "--show-stderr", "-b", DEFAULT, env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    assert "failed" not in out
    import re

    discovered = [n for n in json.loads((tmp_path / "results" / "benchmarks.json").read_text()) if n != "version"]
    assert any(re.search(LOAD, n) for n in discovered), "the load benchmarks are registered (make load runs them)"
    for name in [n for n in discovered if re.search(DEFAULT, n)]:
        assert name in out or f"...{name[-40:]}" in out or name.split(".", 1)[1] in out, f"{name} did not run"
    assert_nothing_left(marker, tmp_path / "tmp")


def test_one_cluster_per_process_however_many_samples(tiny_data, tmp_path, marker, same):
    events = tmp_path / "events.jsonl"
    env = run_env(tiny_data, tmp_path, marker, DASK_BENCH_EVENTS=str(events))
    proc = asv("run", *same, "--dry-run", "-a", "rounds=1", "-b", "errors.ErrorPath.time_error_surfaces",
               "-b", "futures.SubmitLatency.time_submit_result", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    by_pid: dict[int, list[str]] = {}
    for line in events.read_text().splitlines():
        event = json.loads(line)
        by_pid.setdefault(event["pid"], []).append(event["event"])
    # one process per benchmark, parameter and round (1 here): the error path, submit with processes, with threads
    assert len(by_pid) == 3, by_pid
    for pid, kinds in by_pid.items():
        assert kinds.count("start") == 1 and kinds.count("warm") == 1, kinds
        assert kinds.count("session") >= 10, f"{pid} ran only {kinds.count('session')} samples"
    assert_nothing_left(marker, tmp_path / "tmp")


def test_invalid_worker_counts_fail_at_once_with_the_fix(tiny_data, tmp_path, marker, same):
    env = run_env(tiny_data, tmp_path, marker, DASK_BENCH_WORKERS="2,zero")
    started = time.monotonic()
    proc = asv("run", *same, "--quick", "--dry-run", "-b", "bags", env=env)
    assert time.monotonic() - started < 60
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "DASK_BENCH_WORKERS='2,zero' is invalid" in out and "DASK_BENCH_WORKERS=1,2,4" in out
    # and the check `make bench` runs before asv says it in one line
    check = run(PY, "-m", "dask_bench.settings", env=env)
    assert check.returncode == 1 and "DASK_BENCH_WORKERS='2,zero' is invalid" in check.stderr
    assert "Traceback" not in check.stderr


def test_missing_data_fails_within_seconds_naming_data_prep(tmp_path, marker, same):
    empty = tmp_path / "no-data"
    empty.mkdir()
    env = run_env(empty, tmp_path, marker, DASK_BENCH_WORKERS="1")
    started = time.monotonic()
    proc = asv("run", *same, "--quick", "--dry-run", "--show-stderr", "-b", "bags.AccountsBag",
               "-b", "arrays.ComputePersist.time_sum_persisted", env=env, timeout=120)
    assert time.monotonic() - started < 60
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert f"python -m data_prep --dataset accounts --data-dir {empty}" in out
    assert f"python -m data_prep --dataset random --data-dir {empty}" in out
    assert_nothing_left(marker, tmp_path / "tmp")


def test_truncated_data_is_refused_not_measured(tiny_data, tmp_path, marker, same):
    broken = tmp_path / "broken"
    broken.mkdir()
    for f in tiny_data.iterdir():
        (broken / f.name).write_bytes(f.read_bytes())
    (broken / "random.hdf5").write_bytes((tiny_data / "random.hdf5").read_bytes()[:1000])
    env = run_env(broken, tmp_path, marker)
    proc = asv("run", *same, "--quick", "--dry-run", "--show-stderr",
               "-b", "arrays.ComputePersist.time_sum_from_disk", env=env, timeout=120)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2 and "truncated or altered" in out and "--force" in out


# -- external mode: real `dask scheduler` and `dask worker` processes ---------------------------

# The scheduler and workers cannot import this repository: task functions must arrive by value.
NO_SUITE = ("import sys; sys.modules.update(dask_bench=None, benchmarks=None, data_prep=None); "
            "sys.argv = ['dask'] + sys.argv[1:]; from dask.cli import run_cli; run_cli()")


@contextlib.contextmanager
def external(tmp_path, **env_extra):
    scheduler_file = tmp_path / "scheduler.json"
    # dask's own scratch space (/tmp/dask-scratch-space) is shared with anything else on the host:
    # the scheduler's and the nannies' workspace goes in the test's directory, as the workers' does
    env = {**os.environ, "PYTHONPATH": "", "DASK_TEMPORARY_DIRECTORY": str(tmp_path / "dask-scratch"), **env_extra}
    common = dict(cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs = [subprocess.Popen([PY, "-c", NO_SUITE, "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--dashboard-address", ":0", "--scheduler-file", str(scheduler_file)], **common)]
    try:
        deadline = time.monotonic() + 60
        while not scheduler_file.exists():
            assert time.monotonic() < deadline and procs[0].poll() is None, "scheduler did not start"
            time.sleep(0.1)
        procs.append(subprocess.Popen(
            [PY, "-c", NO_SUITE, "worker", "--scheduler-file", str(scheduler_file), "--nworkers", "2",
             "--nthreads", "1", "--host", "127.0.0.1", "--dashboard-address", ":0",
             "--local-directory", str(tmp_path / "workers")], **common))
        from distributed import Client

        with Client(scheduler_file=str(scheduler_file), timeout="30s") as client:  # another version: a warning
            client.wait_for_workers(2, timeout=60)
        address = json.loads(scheduler_file.read_text())["address"]
        yield address
    finally:
        for proc in reversed(procs):
            proc.send_signal(signal.SIGINT)
        for proc in reversed(procs):
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture
def external_cluster(tmp_path):
    # the log length the README asks of an external cluster for the journey of a 1,000-task map
    with external(tmp_path, DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH="20000") as address:
        yield address


def executed_per_worker(address: str) -> dict[str, int]:
    from distributed import Client

    with Client(address, timeout="30s") as client:
        return client.run(lambda dask_worker: dask_worker.state.executed_count)


def test_external_mode_runs_on_real_scheduler_and_workers(external_cluster, tiny_data, tmp_path, marker, same):
    before = executed_per_worker(external_cluster)
    first, second = sorted(before)
    env = run_env(tiny_data, tmp_path, marker, DASK_BENCH_SCHEDULER=external_cluster, DASK_BENCH_WORKERS="1,4")
    proc = asv("run", *same, "--quick", "--dry-run", "--show-stderr",
               "-b", "bags.AccountsBag", "-b", "futures.SubmitLatency.time_submit_result", env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out
    # bags with 1 worker ran (on the first worker only); 4 workers and thread workers were skipped, saying why
    assert "skipped: 4 worker processes x 1 thread: DASK_BENCH_SCHEDULER=" in out and "has 2 worker(s)" in out
    assert "skipped: 2 worker threads x 1 thread: thread workers need a LocalCluster" in out
    after = executed_per_worker(external_cluster)
    # warm-up (4 tasks), the bag (3 fused file tasks and the mean's aggregate), submit_result
    assert after[first] - before[first] >= 8, (before, after)
    # submit_result's 2 workers include the second one, but the bag tasks never went there
    bag_only = run(*ASV, "run", *same, "--quick", "--dry-run", "-b", "bags.AccountsBag",
                   env={**env, "DASK_BENCH_WORKERS": "1"})
    assert bag_only.returncode == 0
    final = executed_per_worker(external_cluster)
    assert final[second] == after[second], "tasks restricted to 1 worker ran on another"
    assert final[first] - after[first] >= 8
    # the journey on other processes' clocks: their offsets estimated, removed and said (asv shows
    # setup_cache's stderr only when it fails: the class's measurement is also run directly)
    proc = asv("run", *same, "--quick", "--dry-run", "-b", "journey.TaskJourney", env=env)
    assert proc.returncode == 0 and "failed" not in proc.stdout, proc.stdout[-3000:]
    # twice in one process, as ./compare measures block after block: the offsets estimated once
    direct = run(PY, "-c", "from benchmarks.journey import TaskJourney; params = [('submit', 'execution')]; "
                 "TaskJourney.measure(1, params); print(sorted(TaskJourney.measure(1, params)['submit'][0]))", env=env)
    assert direct.returncode == 0, direct.stderr[-2000:]
    assert direct.stderr.count("journey: external cluster: its clocks' offsets from the client's") == 1, direct.stderr
    assert "'execution'" in direct.stdout and "'to_client'" in direct.stdout
    # many samples on the external cluster, one warm-up per process
    events = tmp_path / "events.jsonl"
    proc = asv("run", *same, "--dry-run", "-b", "errors.ErrorPath.time_error_surfaces",
               env={**env, "DASK_BENCH_EVENTS": str(events)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    by_pid: dict[int, list[str]] = {}
    for line in events.read_text().splitlines():
        event = json.loads(line)
        by_pid.setdefault(event["pid"], []).append(event["event"])
    assert len(by_pid) == 2, "one process per round"
    for kinds in by_pid.values():
        assert kinds.count("warm") == 1 and kinds.count("session") >= 10, kinds
    assert_nothing_left(marker, tmp_path / "tmp")


# -- the release history -------------------------------------------------------------------------

def test_distributed_repo_makes_a_tagged_release_history(asv_workspace):
    repo = asv_workspace["repo"]
    git = lambda *a: subprocess.run(["git", "-C", str(repo), *a], capture_output=True, text=True,
                                    check=True).stdout.split()
    assert git("tag", "--merged", "main") == list(TWO_RELEASES)
    log = subprocess.run(["git", "-C", str(repo), "log", "--format=%s|%aI", "main"], capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert [line.split("|")[0] for line in log] == [f"distributed {v}" for v in reversed(TWO_RELEASES)]
    assert log[0].split("|")[1].startswith("2026-08-24T19:36:00")  # the upload date of 2026.8.0
    tracked = git("ls-files")
    assert "distributed/scheduler.py" in tracked and "pyproject.toml" in tracked
    assert "distributed/_version.py" not in tracked and "PKG-INFO" not in tracked
    # idempotent: a second run changes nothing
    head = git("rev-parse", "main")
    proc = run("make", "distributed-repo", f"DISTRIBUTED_REPO_PATH={repo}",
               env={"DISTRIBUTED_RELEASES": " ".join(TWO_RELEASES)})
    assert proc.returncode == 0 and "up to date" in proc.stdout and git("rev-parse", "main") == head


def test_the_same_releases_give_the_same_commits_anywhere(asv_workspace, tmp_path):
    """Stored results are keyed by commit hash: a fresh clone must rebuild identical commits."""
    other = tmp_path / "again"
    proc = run(PY, "-m", "dask_bench.host.release_history", "--path", other, "--releases", " ".join(TWO_RELEASES),
               "--cache-dir", tmp_path / "sdists")
    assert proc.returncode == 0, proc.stderr
    rev = lambda path: subprocess.run(["git", "-C", str(path), "rev-parse", "main"], capture_output=True,
                                      text=True, check=True).stdout
    assert rev(other) == rev(asv_workspace["repo"])


def test_releases_older_than_the_suite_supports_are_refused(tmp_path):
    proc = run(PY, "-m", "dask_bench.host.release_history", "--path", tmp_path / "r", "--since", "2024.12")
    assert proc.returncode == 2 and "the suite supports releases from 2025.1 on" in proc.stderr
    assert not (tmp_path / "r").exists()


def test_an_unreachable_scheduler_fails_the_check_in_seconds(tiny_data):
    started = time.monotonic()
    proc = run(PY, "-m", "dask_bench.settings",
               env={"DASK_BENCH_DATA_DIR": str(tiny_data), "DASK_BENCH_SCHEDULER": "tcp://127.0.0.1:1"})
    assert time.monotonic() - started < 30
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "cannot connect to DASK_BENCH_SCHEDULER=tcp://127.0.0.1:1" in proc.stderr
    assert "unset DASK_BENCH_SCHEDULER" in proc.stderr


def test_unknown_release_gives_a_clear_error(tmp_path):
    proc = run(PY, "-m", "dask_bench.host.release_history", "--path", tmp_path / "r", "--releases", "1999.1.1")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no sdist of distributed 1999.1.1" in proc.stderr and "DISTRIBUTED_RELEASES" in proc.stderr


def test_each_release_tag_builds_with_asv_to_its_own_version(asv_workspace, tmp_path):
    ws = asv_workspace
    config = write_asv_config(tmp_path / "asv.json", repo=ws["repo"], env_dir=ws["env_dir"],
                              results_dir=tmp_path / "results", html_dir=tmp_path / "html")
    hashes = tmp_path / "hashes.txt"
    hashes.write_text("\n".join(TWO_RELEASES) + "\n")
    proc = asv("run", "--config", config, "--quick", "--show-stderr", "-b", "futures.SubmitLatency.time_submit_result",
               f"HASHFILE:{hashes}", env={"DASK_BENCH_DATA_DIR": str(ws["data"])}, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for version in TWO_RELEASES:
        assert list(ws["env_dir"].glob(f"*/asv-build-cache/*/distributed-{version}-py3-none-any.whl")), \
            f"no wheel of {version}: the tag did not build to its own version"
    saved = [p for p in (tmp_path / "results").glob("*/*.json") if p.name != "machine.json"]
    assert len(saved) == 2


def test_a_wrong_answer_fails_the_benchmark_instead_of_timing_it(tiny_data, tmp_path, marker, same):
    wrong = tmp_path / "wrong"
    wrong.mkdir()
    for f in tiny_data.iterdir():
        (wrong / f.name).write_bytes(f.read_bytes())
    manifest = json.loads((wrong / "manifest.json").read_text())
    manifest["datasets"]["accounts"]["expected"]["mean_amount"] += 1.0
    (wrong / "manifest.json").write_text(json.dumps(manifest))
    env = run_env(wrong, tmp_path, marker, DASK_BENCH_WORKERS="1")
    proc = asv("run", *same, "--quick", "--dry-run", "--show-stderr", "-b", "bags.AccountsBag", env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 2, out
    assert "AccountsBag: mean is" in out and "expected the manifest's mean amount" in out
    assert_nothing_left(marker, tmp_path / "tmp")


def test_an_external_cluster_on_another_version_is_refused(tmp_path, tiny_data, marker, same):
    """A scheduler and workers of distributed 2026.7.1 while the client (what asv built) runs another."""
    import distributed

    old = "2026.7.1" if distributed.__version__ != "2026.7.1" else "2026.6.0"
    target = tmp_path / "old-distributed"
    pip = run(PY, "-m", "pip", "install", "--quiet", "--no-deps", "--target", target, f"distributed=={old}",
              f"dask=={old}", timeout=600)
    assert pip.returncode == 0, pip.stderr
    with external(tmp_path, PYTHONPATH=str(target)) as address:
        env = run_env(tiny_data, tmp_path, marker, DASK_BENCH_SCHEDULER=address, DASK_BENCH_WORKERS="1")
        proc = asv("run", *same, "--quick", "--dry-run", "--show-stderr", "-b", "bags.AccountsBag", env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out  # skipped, not failed
    assert f"scheduler runs distributed {old}, dask {old}" in out, out[-3000:]
    assert f"this benchmark measures distributed {distributed.__version__}" in out
    assert "start the scheduler and workers with the Python of the asv environment" in out
    assert_nothing_left(marker, tmp_path / "tmp")


def test_a_changed_workload_makes_stored_results_not_comparable(tmp_path, asv_workspace):
    """asv hashes only a benchmark's own method; the suite's version covers workloads.py too."""
    from dask_bench.host.results import runs

    copy = tmp_path / "suite"
    for part in ("benchmarks", "dask_bench", "data_prep"):
        shutil.copytree(REPO / part, copy / part, ignore=shutil.ignore_patterns("__pycache__"))
    repo = asv_workspace["repo"]  # results of the installed distributed, stored under a release's commit
    commit = subprocess.run(["git", "-C", str(repo), "rev-parse", "2026.8.0"], capture_output=True, text=True,
                            check=True).stdout.strip()
    env = {"DASK_BENCH_DATA_DIR": str(asv_workspace["data"])}
    sides = []
    for name in ("before", "after"):
        if name == "after":
            workloads = copy / "dask_bench" / "workloads.py"
            text = workloads.read_text()
            anchor = '    return client.submit(inc, 1, pure=False).result()'
            assert anchor in text
            workloads.write_text(text.replace(anchor, "    _ = [i for i in range(10)]\n" + anchor))
        config = write_asv_config(tmp_path / f"{name}.json", repo=repo, results_dir=tmp_path / name,
                                  benchmark_dir=copy / "benchmarks")
        proc = asv("run", "--config", config, "--python=same", "--set-commit-hash", commit, "--quick", "--record-samples",
                   "-b", "futures.SubmitLatency.time_submit_result", env=env)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
        (measured,) = runs(tmp_path / name)
        sides.append({key: m.version for key, m in measured.measurements.items()})
    assert sides[0] and sides[0].keys() == sides[1].keys()
    assert all(sides[0][key] != sides[1][key] for key in sides[0]), sides


def test_a_hostile_git_config_cannot_change_the_hashes_the_committed_results_use(tmp_path):
    """Signing, hooks, templates, another identity and line-ending rewrites in the user's global git
    config must not change (or break) the release history's commits."""
    home = tmp_path / "home"
    hooks = home / "hooks"
    template = home / "template" / "hooks"
    for folder in (hooks, template):
        folder.mkdir(parents=True)
        for hook in ("pre-commit", "commit-msg"):
            (folder / hook).write_text("#!/bin/sh\necho tampered >> \"$1\"; exit 1\n")
            (folder / hook).chmod(0o755)
    (home / ".gitconfig").write_text(
        "[user]\n\tname = Mallory\n\temail = mallory@example.invalid\n[commit]\n\tgpgsign = true\n"
        f"[core]\n\thooksPath = {hooks}\n\tautocrlf = true\n[init]\n\ttemplateDir = {home / 'template'}\n"
        "\tdefaultBranch = trunk\n[tag]\n\tgpgSign = true\n")
    pinned = (REPO / "results" / "distributed-releases.txt").read_text().split()
    proc = run(PY, "-m", "dask_bench.host.release_history", "--path", tmp_path / "history", "--releases", " ".join(pinned),
               env={"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}, timeout=600)
    assert proc.returncode == 0, proc.stderr
    stored = {json.loads(p.read_text())["commit_hash"] for p in (REPO / "results").glob("*/*.json")
              if (p.parent / "machine.json").exists() and p.name not in ("machine.json", "benchmarks.json")}
    built = {subprocess.run(["git", "-C", str(tmp_path / "history"), "rev-parse", f"{v}^{{commit}}"],
                            capture_output=True, text=True, check=True).stdout.strip() for v in pinned}
    assert stored and stored <= built, "every committed result's commit is rebuilt, hash for hash"


def test_new_releases_only_ever_extend_the_history():
    """A backport published after a newer release goes at the end; a pinned release yanked since stays."""
    from dask_bench.host.release_history import Release, choose

    def rel(version, yanked=False):
        return Release(version, f"u/{version}", "0" * 64, "2026-01-01T00:00:00Z", yanked)

    pinned = ["2026.6.0", "2026.7.0", "2026.8.0"]
    available = {v: rel(v) for v in pinned} | {"2026.7.1": rel("2026.7.1"), "2026.9.0": rel("2026.9.0")}
    available["2026.7.0"] = rel("2026.7.0", yanked=True)
    order = [r.version for r in choose(available, None, "2026.6", pinned)]
    assert order[:3] == pinned, "the pinned history comes first, yanked or not"
    assert order[3:] == ["2026.7.1", "2026.9.0"], "new releases, the late backport among them, follow"
    available["2026.9.1"] = rel("2026.9.1", yanked=True)
    assert "2026.9.1" not in [r.version for r in choose(available, None, "2026.6", pinned)]
    assert [r.version for r in choose(available, None, "2026.6", pinned, grow=False)] == pinned, \
        "without --grow (make bench, a fresh clone) the history is the pinned one: the pin file is never rewritten"


def test_the_default_history_is_the_latest_patch_of_every_minor_since_2025_1():
    from dask_bench.host.release_history import Release, SUPPORTED_SINCE, choose

    versions = ["2024.12.1", "2025.1.0", "2025.3.0", "2025.3.1", "2025.9.1", "2025.9.2", "2026.1.0"]
    available = {v: Release(v, f"u/{v}", "0" * 64, "2026-01-01T00:00:00Z", v == "2025.9.2") for v in versions}
    order = [r.version for r in choose(available, None, SUPPORTED_SINCE, [])]
    assert order == ["2025.1.0", "2025.3.1", "2025.9.1", "2026.1.0"], "no 2024 release, no older patch, none yanked"
