"""The revisions a tool measures: resolved in the repository asv measures, built into asv
environments (BASE in the configuration's own, HEAD in a second one, so neither is measured right
after pip replaced the package under test), and the suite's benchmarks listed from an environment."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from . import asv_run as asv_runner, asvapi
from .asv_config import REPO_ROOT, derive
from .cli import ToolError

WORK_DIR = REPO_ROOT / ".asv" / "compare"
PREBUILD_BENCH = r"^baselines\.SubmitLatency\."  # a benchmark of a second, run to make asv build and install


def load_config(path: Path):
    try:
        return asvapi.config(path)
    except asvapi.AsvError as exc:
        raise ToolError(str(exc)) from None


def resolve(conf, rev: str) -> str:
    """The full hash of a revision (tag, branch, hash) of the repository asv measures."""
    if not Path(conf.repo).exists():
        raise ToolError(f"{conf.repo} does not exist; make it with: make distributed-repo")
    proc = subprocess.run(["git", "-C", conf.repo, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        tags = subprocess.run(["git", "-C", conf.repo, "tag"], capture_output=True, text=True).stdout.split()
        hint = f"; its tags: {' '.join(tags[-8:])}" if tags else ""
        raise ToolError(f"no revision {rev!r} in {conf.repo}{hint} (make distributed-repo makes it)")
    return proc.stdout.strip()


def tagged_commits(repo: str) -> list[tuple[str, str]]:
    """(tag, commit) of every tagged commit on the first-parent line of main, oldest first."""
    proc = subprocess.run(["git", "-C", repo, "log", "--first-parent", "--reverse", "--format=%H %D", "main"],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolError(f"{repo} has no branch main ({proc.stderr.strip()}); make it with: make distributed-repo")
    found = []
    for line in proc.stdout.splitlines():
        commit, _, refs = line.partition(" ")
        tags = [ref[len("tag: "):] for ref in refs.split(", ") if ref.startswith("tag: ")]
        found += [(tags[0], commit)] if tags else []
    return found


def prebuild(config: Path, commit: str) -> None:
    """Build and install `commit` before any measurement (one tiny benchmark, nothing saved): a side
    measured right after its own build would run on a machine still busy with it."""
    code = asv_runner.run(["run", "--config", str(config), "--dry-run", "--quick", "-b", PREBUILD_BENCH,
                           f"{commit}^!"], None)
    if code not in (0, 2):
        raise ToolError(f"asv could not build {commit[:8]} (exit {code})")


def side_config(name: str, base_config: Path, workdir: Path, env: str | None = None) -> Path:
    """A configuration that measures like `base_config` but keeps its results in workdir/name and,
    with `env`, its own asv environment in workdir/env-<env> (else `base_config`'s)."""
    extra = {"env_dir": workdir / f"env-{env}"} if env else {}
    return derive(workdir / f"{name}-{env or 'shared'}.conf.json", base_config, results_dir=workdir / name, **extra)


def environment_python(config: Path) -> Path:
    """The Python of the configuration's asv environment (the matrix has one)."""
    env_dir = Path(load_config(config).env_dir)
    found = sorted(env_dir.glob("*/bin/python"))
    if len(found) != 1:
        raise ToolError(f"expected one asv environment in {env_dir}, found {len(found)}; "
                        f"remove {env_dir} and run again")
    return found[0]


def installed(config: Path, commit: str) -> Path:
    """Build and install `commit` into the configuration's environment; its Python."""
    prebuild(config, commit)
    return environment_python(config)


def driver(python: Path, *args: str, timeout: float | None = None) -> subprocess.CompletedProcess:
    """dask_bench.profile_run in an asv environment; Ctrl-C or SIGTERM stops its whole tree."""
    with asv_runner.signals_stop():
        proc = subprocess.Popen([str(python), "-m", "dask_bench.profile_run", *args], cwd=REPO_ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except (asv_runner.Stopped, subprocess.TimeoutExpired):
            asv_runner.stop_tree(proc.pid)
            proc.communicate()
            raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def listing(python: Path, regex: str) -> dict:
    """What the suite in that environment lists for `regex`: {"matched": labels (parameters
    included), "all": every label, "units": the matched labels a paired verdict can measure, grouped
    as one server measures them}; a ToolError listing them all when it selects none."""
    try:
        re.compile(regex)
    except re.error as exc:
        raise ToolError(f"BENCH={regex!r} is not a regular expression ({exc})") from None
    proc = driver(python, "--list", regex, timeout=120)
    if proc.returncode != 0:
        raise ToolError(f"cannot list the benchmarks: {proc.stderr.strip()[-300:]}")
    found = json.loads(proc.stdout)
    if not found["matched"]:
        raise ToolError(f"BENCH={regex!r} matches no benchmark; the benchmarks are:\n  " + "\n  ".join(found["all"]))
    return found


def matched(python: Path, regex: str) -> list[str]:
    """The suite's benchmark labels that `regex` selects (listing)."""
    return listing(python, regex)["matched"]
