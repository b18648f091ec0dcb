"""Where the benchmarks run: one warm cluster per benchmark process, reused across samples.

`session(Shape(workers=2))` returns a Session (a Client and where its tasks may run). The
cluster is started on first use, outside any timed region, kept for every later sample of the
process, and closed when the process ends: gracefully at a normal exit, by the janitor when asv
ends its benchmark child with os._exit or kills it on a timeout.

With DASK_BENCH_SCHEDULER=<address> the same benchmarks run on an existing cluster: a shape's
worker count is met by restricting tasks to that many of its workers (dask.annotate), and a
shape the cluster cannot meet raises `CannotRun` (a NotImplementedError: asv reports a skip).

DASK_BENCH_EVENTS=<file> appends one JSON line per session request, warm-up, cluster start and
close (with the pid), to see what a run did: e.g. that many samples shared one cluster.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import dask
from distributed import Client, LocalCluster

from .janitor import Janitor
from .settings import SettingsError, scheduler_address
from .tasks import executed_count, held_bytes, inc, process_id, scheduler_settings
from .watchdog import Watchdog


@dataclass(frozen=True)
class Shape:
    workers: int
    threads: int = 1
    processes: bool = True
    scheduler_process: bool = False  # the scheduler in a process of its own (SubprocessCluster)

    def __str__(self):
        kind = "processes" if self.processes else "threads"
        return f"{self.workers} worker {kind} x {self.threads} thread{'s' * (self.threads != 1)}"


class CannotRun(NotImplementedError):
    """This shape cannot run on this cluster; asv records the benchmark as skipped."""

    def __init__(self, message: str):
        super().__init__(message)
        print(f"skipped: {message}", file=sys.stderr)


@dataclass
class Session:
    client: Client
    shape: Shape
    workers: list[str] | None = None  # the workers tasks are restricted to (external mode)
    watchdog: Watchdog | None = None   # fails a sample whose cluster breaks or hangs

    def placement(self):
        """A context in which every graph submitted runs on this session's workers only."""
        if self.workers is None:
            return contextlib.nullcontext()
        return dask.annotate(workers=self.workers, allow_other_workers=False)

    def executed(self) -> int:
        """Tasks executed so far by this session's workers, as the workers count them."""
        return sum(self.client.run(executed_count, workers=self.workers).values())

    def held_bytes(self, keys) -> int:
        """Bytes the workers hold of the results with these keys."""
        return sum(self.client.run(held_bytes, list(keys), workers=self.workers).values())


class _Harness:
    """The process-wide state: at most one local cluster (or one external client), one pool."""

    def __init__(self):
        self.local: tuple[Shape, LocalCluster, Client] | None = None
        self.external: Client | None = None
        self.watchdog: Watchdog | None = None
        self.pools: dict[int, ProcessPoolExecutor] = {}
        self.warmed: set[str] = set()  # external workers already warmed by this process
        self.versions_checked = False
        self._janitor: Janitor | None = None
        atexit.register(self.close)

    @property
    def janitor(self) -> Janitor:
        if self._janitor is None:
            self._janitor = Janitor()
        return self._janitor

    def session(self, shape: Shape) -> Session:
        _event("session", shape)
        address = scheduler_address()
        return self._external_session(address, shape) if address else self._local_session(shape)

    def _local_session(self, shape: Shape) -> Session:
        if self.local is None or self.local[0] != shape:
            self.close_local()
            # Scheduler and workers put their scratch space in the janitor's directory.
            with dask.config.set({"temporary-directory": self.janitor.directory}):
                if shape.scheduler_process:
                    from distributed.deploy.subprocess import SubprocessCluster

                    # the subprocesses read dask's config afresh: their scratch space via the environment
                    os.environ["DASK_TEMPORARY_DIRECTORY"] = self.janitor.directory
                    cluster = SubprocessCluster(
                        n_workers=shape.workers, threads_per_worker=shape.threads, dashboard_address=":0",
                        silence_logs=logging.CRITICAL,
                        worker_kwargs={"local_directory": self.janitor.directory})
                else:
                    cluster = LocalCluster(
                        n_workers=shape.workers, threads_per_worker=shape.threads, processes=shape.processes,
                        # CRITICAL: the error benchmarks make workers log every failure they are made to raise.
                        dashboard_address=":0", silence_logs=logging.CRITICAL,
                        local_directory=self.janitor.directory,
                    )
            client = Client(cluster)
            self.janitor.watch_children()
            _warm(client, list(client.scheduler_info(n_workers=-1)["workers"]))
            _event("warm", shape, workers=shape.workers)
            self.watchdog = Watchdog(client, client.run(process_id) if shape.processes else None)
            self.local = (shape, cluster, client)
            _event("start", shape, scheduler=cluster.scheduler_address,
                   settings=client.run_on_scheduler(scheduler_settings) if os.environ.get("DASK_BENCH_EVENTS") else None)
        return Session(self.local[2], shape, watchdog=self.watchdog)

    def _external_session(self, address: str, shape: Shape) -> Session:
        if self.external is None:
            try:
                self.external = Client(address, timeout="10s")
                self.watchdog = Watchdog(self.external)
            except (OSError, TimeoutError) as exc:
                raise SettingsError(
                    f"cannot connect to DASK_BENCH_SCHEDULER={address} ({exc}); start that scheduler "
                    "or unset DASK_BENCH_SCHEDULER to use a LocalCluster") from None
        if not shape.processes:
            raise CannotRun(f"{shape}: thread workers need a LocalCluster; "
                            f"DASK_BENCH_SCHEDULER={address} has process workers only")
        workers = sorted(self.external.scheduler_info(n_workers=-1)["workers"])
        if len(workers) < shape.workers:
            raise CannotRun(f"{shape}: DASK_BENCH_SCHEDULER={address} has {len(workers)} worker(s), "
                            f"this benchmark needs {shape.workers}")
        chosen = workers[:shape.workers]
        if not self.versions_checked:
            self._check_versions(address, chosen)
        cold = [w for w in chosen if w not in self.warmed]
        if cold:  # once per process, not before every sample
            _warm(self.external, cold)
            _event("warm", shape, workers=len(cold))
        self.warmed.update(chosen)
        return Session(self.external, shape, chosen, self.watchdog)

    def _check_versions(self, address: str, workers: list[str]) -> None:
        """The scheduler and the workers used must run the distributed and dask that asv built and
        this client runs; results of another version would be stored under the wrong commit."""
        import distributed

        mine = {"distributed": distributed.__version__, "dask": dask.__version__}
        found = self.external.get_versions(check=False)
        others = {"scheduler": found["scheduler"]} | {w: found["workers"].get(w, {}) for w in workers}
        for who, info in others.items():
            theirs = {name: (info.get("packages") or {}).get(name) for name in mine}
            if theirs != mine:
                raise CannotRun(
                    f"DASK_BENCH_SCHEDULER={address}: {who} runs distributed {theirs['distributed']}, dask "
                    f"{theirs['dask']}, but this benchmark measures distributed {mine['distributed']}, dask "
                    f"{mine['dask']}; start the scheduler and workers with the Python of the asv environment "
                    "under test (README: External clusters)")
        self.versions_checked = True

    def pool(self, workers: int) -> ProcessPoolExecutor:
        """A warm ProcessPoolExecutor (the baselines' stand-in for a cluster)."""
        if workers not in self.pools:
            pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
            list(pool.map(abs, range(4 * workers)))  # start every process now, not in a timed region
            self.pools[workers] = pool
            self.janitor.watch_children()
        return self.pools[workers]

    def close_local(self) -> None:
        if self.watchdog is not None and self.local is not None:
            self.watchdog.close()
            self.watchdog = None
        if self.local is not None:
            shape, cluster, client = self.local
            self.local = None
            client.close()
            cluster.close()
            _event("close", shape)

    def close(self) -> None:
        self.close_local()
        for pool in self.pools.values():
            pool.shutdown(cancel_futures=True)
        self.pools.clear()
        if self.external is not None:
            if self.watchdog is not None:
                self.watchdog.close()
                self.watchdog = None
            self.external.close()
            self.external = None
            self.warmed.clear()
            self.versions_checked = False
        if self._janitor is not None:
            self._janitor.release()
            self._janitor = None


def _event(kind: str, shape: Shape, **details) -> None:
    path = os.environ.get("DASK_BENCH_EVENTS")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"event": kind, "pid": os.getpid(), "shape": str(shape), "time": time.time(),
                                **details}) + "\n")


def _warm(client: Client, workers: list[str]) -> None:
    """Run a few tasks on every worker, so that no first sample pays for first contact."""
    for address in workers:
        client.gather(client.map(inc, range(4), workers=[address], pure=False))


_harness = _Harness()
session = _harness.session
pool = _harness.pool
close = _harness.close
