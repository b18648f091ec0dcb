"""No hangs: every sample of a cluster benchmark runs under a watchdog with a deadline.

The harness arms the watchdog before each sample (in setup, outside the timed region) and disarms
it after (teardown). A thread checks, without talking to the cluster (no traffic during timing):
the local worker processes are still alive (a LocalCluster's), the client is still connected to
its scheduler, and the sample has not run past its deadline. When one fails, it records what
happened and sends this process SIGINT, which interrupts even a blocking wait for a result; the
handler raises ClusterFailure with that message, so the benchmark fails saying why, asv moves on,
and the next benchmark runs in a new process on a fresh cluster.
"""

from __future__ import annotations

import os
import signal
import threading
import time

import psutil

DEADLINE = float(os.environ.get("DASK_BENCH_SAMPLE_DEADLINE", "120"))  # seconds for one sample
POLL = 0.25
RECONNECT_GRACE = 5.0


class ClusterFailure(RuntimeError):
    """The cluster failed under a benchmark: a worker died, the scheduler went away, or a deadline passed."""


class Watchdog:
    def __init__(self, client, worker_pids: dict[str, int] | None = None, deadline: float = DEADLINE):
        self.client = client
        self.deadline = deadline
        self.workers = {}  # address -> (pid, psutil.Process) of local worker processes
        for address, pid in (worker_pids or {}).items():
            try:
                self.workers[address] = (pid, psutil.Process(pid))
            except psutil.Error:
                pass
        self.armed_at: float | None = None
        self.disconnected_at: float | None = None
        self.what = ""
        self.sample_deadline = deadline
        self._previous_handler = None
        self.failure: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="dask-bench-watchdog", daemon=True)
        self._thread.start()

    def arm(self, what: str, deadline: float | None = None) -> None:
        """Watch one sample; `deadline` (seconds) overrides DASK_BENCH_SAMPLE_DEADLINE for it."""
        if self.failure:  # an earlier sample broke this cluster: say so again, do not run on it
            raise ClusterFailure(self.failure)
        self.what = what
        self.sample_deadline = max(deadline or 0, self.deadline)
        self.armed_at = time.monotonic()
        self._previous_handler = signal.signal(signal.SIGINT, self._interrupted)

    def disarm(self) -> None:
        self.armed_at = None
        if self._previous_handler is not None:
            signal.signal(signal.SIGINT, self._previous_handler)
            self._previous_handler = None

    def check(self) -> None:
        """After a sample, before its results are judged: a cluster that failed during the sample (the
        kill may land after the sample's last poll) fails it naming what happened, not what it lost."""
        if not self.failure:
            found = self.problem()
            if found:
                self.failure = f"cluster failure: {found}"
        if self.failure:
            raise ClusterFailure(self.failure)

    def close(self) -> None:
        self._stop.set()

    def _interrupted(self, signum, frame):
        if self.failure:
            raise ClusterFailure(self.failure)
        raise KeyboardInterrupt

    def problem(self) -> str | None:
        """What is wrong with the cluster now, or None."""
        for address, (pid, proc) in self.workers.items():
            try:
                alive = proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
            except psutil.Error:
                alive = False
            if not alive:
                return f"worker {address} (pid {pid}) died during {self.what}"
        status = getattr(self.client, "status", "running")
        if status == "running":
            self.disconnected_at = None
        else:  # reconnecting for a few seconds can be a hiccup; longer, or closed, is a lost scheduler
            self.disconnected_at = self.disconnected_at or time.monotonic()
            if status != "connecting" or time.monotonic() - self.disconnected_at > RECONNECT_GRACE:
                return f"lost the scheduler during {self.what} (client {status})"
        if self.armed_at is not None and time.monotonic() - self.armed_at > self.sample_deadline:
            return (f"{self.what} gave no result within {self.sample_deadline:g} s (DASK_BENCH_SAMPLE_DEADLINE); "
                    "the cluster may be stuck")
        return None

    def _watch(self) -> None:
        while not self._stop.wait(POLL):
            if self.armed_at is None or self.failure:
                continue
            found = self.problem()
            if found:
                self.failure = f"cluster failure: {found}"
                os.kill(os.getpid(), signal.SIGINT)
