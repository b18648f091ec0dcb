"""Run asv so that Ctrl-C and SIGTERM stop it, cleanly, within seconds.

    python -m dask_bench.host.asv_run --results results -- run --record-samples main^!

asv alone does not stop on Ctrl-C: its benchmarks run in a fork server in another process group,
and an interrupted benchmark is recorded as failed while the run goes on to the next one. Here asv
runs in a session of its own, and this process takes the signal: it stops every process of asv's
tree (asv, the fork server, the benchmark, its cluster, pools) except the janitors, which then
remove the clusters' scratch directories; whatever is still alive after a few seconds is killed.
asv writes result files in place, so a file it was writing when stopped could be left half
written: files of the results directory that no longer parse are restored from the copy taken
before the run (or removed, when new). Exit status: asv's, or 130 (SIGINT) / 143 (SIGTERM).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from .cli import Stopped, ToolError, command, signals_stop

TERM_GRACE = 2.0     # seconds for asv's processes to exit after SIGTERM
JANITOR_GRACE = 6.0  # seconds for the janitors to remove what the clusters left


def _is_janitor(proc: psutil.Process) -> bool:
    try:
        return any(part.endswith("janitor.py") for part in proc.cmdline())
    except psutil.Error:
        return False


def _signal(procs: list[psutil.Process], how: str) -> None:
    """procs[i].terminate() or .kill(), each that still exists."""
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            getattr(proc, how)()


def stop_tree(root_pid: int) -> None:
    """Stop asv's process tree: everything but the janitors at once, then the janitors' sweep."""
    try:
        root = psutil.Process(root_pid)
    except psutil.Error:
        return
    janitors: dict[int, psutil.Process] = {}
    for _ in range(3):  # a process may start a child while we stop it: look again
        try:
            tree = [root, *root.children(recursive=True)]
        except psutil.Error:
            tree = [p for p in (root,) if p.is_running()]
        others = []
        for proc in tree:
            (janitors.setdefault(proc.pid, proc) if _is_janitor(proc) else others.append(proc))
        _signal(others, "terminate")
        _, alive = psutil.wait_procs(others, timeout=TERM_GRACE)
        _signal(alive, "kill")
        psutil.wait_procs(alive, timeout=1)
        if not others:
            break
    _, alive = psutil.wait_procs(list(janitors.values()), timeout=JANITOR_GRACE)
    for proc in alive:
        try:
            directory = proc.cmdline()[-1]
            proc.kill()
            shutil.rmtree(directory, ignore_errors=True)
        except (psutil.Error, IndexError):
            pass


def snapshot(results_dir: Path | None) -> Path | None:
    """A copy of the results directory's JSON files, to repair what an interruption breaks."""
    if results_dir is None or not Path(results_dir).exists():
        return None
    copy = Path(tempfile.mkdtemp(prefix="dask-bench-results-"))
    for path in Path(results_dir).rglob("*.json"):
        target = copy / path.relative_to(results_dir)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
    return copy


def repair(results_dir: Path | None, copy: Path | None) -> list[str]:
    """Restore (or remove, if new) every result file that no longer parses; returns what it did."""
    done = []
    if results_dir is None or not Path(results_dir).exists():
        return done
    for path in Path(results_dir).rglob("*.json"):
        try:
            json.loads(path.read_text())
            continue
        except (ValueError, OSError):
            pass
        before = copy / path.relative_to(results_dir) if copy else None
        if before is not None and before.exists():
            shutil.copy2(before, path)
            done.append(f"restored {path}")
        else:
            path.unlink()
            done.append(f"removed half-written {path}")
    return done


def run(asv_args: list[str], results_dir: Path | None = None) -> int:
    """`python -m asv <asv_args>`, stopped cleanly on SIGINT/SIGTERM (then raises Stopped)."""
    copy = snapshot(results_dir)
    try:
        with signals_stop():
            proc = subprocess.Popen([sys.executable, "-m", "asv", *asv_args], start_new_session=True)
            try:
                return proc.wait()
            except Stopped:
                started = time.monotonic()
                print(f"\nasv_run: stopping asv ({signal.Signals(sys.exc_info()[1].signum).name})", file=sys.stderr,
                      flush=True)
                stop_tree(proc.pid)
                for line in repair(results_dir, copy):
                    print(f"asv_run: {line}", file=sys.stderr)
                print(f"asv_run: stopped in {time.monotonic() - started:.1f} s; results stored before are intact",
                      file=sys.stderr, flush=True)
                raise
    finally:
        if copy is not None:
            shutil.rmtree(copy, ignore_errors=True)


def _results_dir(asv_args: list[str]) -> Path | None:
    """The results directory of the configuration an `asv run` uses (--config, else asv.conf.json)."""
    if asv_args[:1] != ["run"]:
        return None
    config = next((asv_args[i + 1] for i, a in enumerate(asv_args[:-1]) if a == "--config"), "asv.conf.json")
    from . import asvapi

    try:
        return Path(asvapi.config(Path(config)).results_dir)
    except asvapi.AsvError:
        return None  # asv itself reports the configuration's problem


def discover(config: Path, into: Path) -> Path:
    """asv's list of the benchmarks and their versions (benchmarks.json), discovered with this
    Python's distributed and written to `into`, nothing else: asv's own discovery writes it beside a
    machine.json of this host, here into a scratch folder. A version covers the data's preset and
    seed (dask_bench.identity): only the default ones', which the committed history was measured on."""
    from data_prep.manifest import DataError, default_data_dir, load
    from data_prep.presets import DATASETS, DEFAULT_PRESET, DEFAULT_SEED

    from .asv_config import derive

    try:
        found = load(default_data_dir())["datasets"]
    except DataError as exc:
        raise ToolError(str(exc)) from None
    made = {name: (found.get(name) or {}).get("preset") for name in DATASETS}
    if any(made[name] != DEFAULT_PRESET or found[name].get("seed") != DEFAULT_SEED for name in DATASETS):
        raise ToolError(f"{default_data_dir()} holds {made}, not the {DEFAULT_PRESET} datasets of seed {DEFAULT_SEED} "
                        f"the committed versions cover: make data SIZE={DEFAULT_PRESET}, then make discover")
    with tempfile.TemporaryDirectory(prefix="dask-bench-discover-") as scratch:
        derived = derive(Path(scratch) / "asv.conf.json", config, results_dir=Path(scratch) / "results")
        if run(["run", "--config", str(derived), "--python=same", "--bench", "just-discover"]) != 0:
            raise ToolError("asv could not discover the benchmarks (see above)")
        into.mkdir(parents=True, exist_ok=True)
        return Path(shutil.copy(Path(scratch) / "results" / "benchmarks.json", into / "benchmarks.json"))


def local(asv_args: list[str]) -> list[str]:
    """`asv run` arguments that store the run with this machine's own runs: the configuration given
    (--config, else asv.conf.json) with results_dir LOCAL_RESULTS, and the machine local_machine()."""
    from .asv_config import LOCAL_CONFIG, LOCAL_RESULTS, derive, local_machine

    i = asv_args.index("--config") + 1 if "--config" in asv_args else None
    derived = derive(LOCAL_CONFIG, Path(asv_args[i] if i else "asv.conf.json"), results_dir=LOCAL_RESULTS)
    machine = local_machine()
    subprocess.run([sys.executable, "-m", "asv", "machine", "--yes", "--machine", machine], check=True,
                   stdout=subprocess.DEVNULL)
    rest = asv_args[:i - 1] + asv_args[i + 1:] if i else asv_args
    return [rest[0], "--config", str(derived), "--machine", machine, *rest[1:]]


@command("asv_run")
def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.host.asv_run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, help="the results directory asv writes (repaired if interrupted)")
    parser.add_argument("--selection", choices=("quick", "default", "load"), help="add -b for the benchmarks of "
                        "this selection (their policy, dask_bench/policy.py)")
    parser.add_argument("--local", action="store_true", help="store the run with this machine's own runs "
                        "(.asv/results, machine local-<host>), never in the committed results/")
    parser.add_argument("--discover", type=Path, metavar="CONFIG", help="instead: write the benchmarks and their "
                        "versions (asv's benchmarks.json) to --results (default CONFIG's), nothing else (make discover)")
    parser.add_argument("asv_args", nargs=argparse.REMAINDER, help="-- then asv's own arguments")
    args = parser.parse_args(argv)
    asv_args = args.asv_args[1:] if args.asv_args[:1] == ["--"] else args.asv_args
    if args.discover:
        from . import asvapi

        into = args.results or Path(asvapi.config(args.discover).results_dir)  # a bad file: one line naming it
        print(f"asv_run: {discover(args.discover, into)}")
        return 0
    if args.local:
        try:
            asv_args = local(asv_args)
        except (IndexError, OSError, subprocess.CalledProcessError) as exc:
            print(f"asv_run: error: cannot store the run with this machine's own ({type(exc).__name__}: {exc}); "
                  "give asv's arguments after --, with --config FILE", file=sys.stderr)
            return 2
    if args.selection:
        from .. import policy

        asv_args = [*asv_args[:1], "-b", policy.selection_regex(args.selection), *asv_args[1:]]
    return run(asv_args, args.results or _results_dir(asv_args))


if __name__ == "__main__":
    sys.exit(main())
