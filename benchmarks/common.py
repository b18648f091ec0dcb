"""Shared by every benchmark module: base classes, settings, identity, and how results are checked.

Timed bodies are one line that calls a workload from dask_bench.workloads and keeps what it returns
in self.got_<name>; teardown, outside the timed region, checks it against the class's `answers`,
so a wrong answer fails the benchmark instead of producing a fast wrong number. Cluster benchmarks
can also declare `executes`: how many tasks each sample must run on the workers, counted by the
workers themselves (not by the loop that submits them).
"""

from __future__ import annotations

import random
import time

from dask_bench import cluster
from dask_bench.cluster import Shape
from dask_bench.identity import version_of
from dask_bench.settings import worker_counts

__all__ = ["Benchmark", "ClusterBenchmark", "Shape", "WORKER_COUNTS", "TASK_MS", "close_to", "expect"]

WORKER_COUNTS = worker_counts()  # DASK_BENCH_WORKERS, validated: a bad value stops discovery with the fix
TASK_MS = [0, 1]                  # task durations of the throughput benchmarks


class Benchmark:
    """Defaults for every benchmark: two processes (rounds) per benchmark, one call per sample."""

    # Each round is a new process and a new cluster: samples from two processes show the verdict
    # process-to-process variation, and `asv run --interleave-rounds` alternates the commits compared.
    rounds = 2
    number = 1        # setup (fresh keys) runs before every call anyway
    repeat = (5, 10, 3.0)  # per round: (min samples, max samples, seconds after which to stop)
    warmup_time = 0.2  # 0 where one call takes seconds: the harness warms every new cluster
    timeout = 300     # asv's fork server counts the whole process: cluster start and all samples

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls.version = version_of(cls)

    @property
    def answers(self) -> dict:
        """For each self.got_<name> a timed body sets: the right value, or a predicate of it."""
        return {}

    def teardown(self, *params):
        got = {name[4:]: self.__dict__.pop(name) for name in list(self.__dict__) if name.startswith("got_")}
        if got:
            answers = self.answers
            for name, value in got.items():
                right = answers[name]
                ok = right(value) if callable(right) else value == right
                wanted = (right.__doc__ or right.__name__) if callable(right) else repr(right)
                expect(ok, f"{type(self).__name__}: {name} is {value!r:.200}, expected {wanted:.200}")


class ClusterBenchmark(Benchmark):
    """A benchmark on a warm cluster: self.client is ready in setup(), started once per process."""

    shape = Shape(workers=2)
    # Pause before every sample, outside the timed region: the client batches what it sends every
    # 10 ms, so a submission right after the previous one waits for the next window (~10 ms) and a
    # slower submission path hides inside that wait. After a pause every sample starts fresh. The
    # pause is random (20-50 ms): a fixed one locks each sample to the same phase of the cluster's
    # periodic callbacks, and that phase differs from process to process (up to 40% on one round trip).
    settle = (0.020, 0.050)
    # {got name: tasks one sample runs, as the workers count them (an int, or (fewest, most))}
    executes: dict | None = None
    sample_deadline: float | None = None  # seconds one sample may take (default: the watchdog's, 120)

    def cluster_shape(self, *params) -> Shape:
        return self.shape

    def expected_executions(self, name: str, value) -> tuple[int, int] | None:
        """(fewest, most) tasks the sample that set self.got_<name> = value must have run."""
        want = (self.executes or {}).get(name)
        return (want, want) if isinstance(want, int) else want

    def setup(self, *params):
        self.session = cluster.session(self.cluster_shape(*params))
        self.client = self.session.client
        if self.executes is not None:
            self._executed_before = self.session.executed()
        # On an external cluster, restrict every graph to this shape's workers (a no-op locally).
        self._placement = self.session.placement()
        self._placement.__enter__()
        # From here until teardown a dead worker, a lost scheduler or a sample past its deadline
        # fails the benchmark with what happened, instead of a hang.
        self.session.watchdog.arm(f"{type(self).__name__}{params or ''}", self.sample_deadline)
        time.sleep(random.uniform(*self.settle))

    def teardown(self, *params):
        if "session" in self.__dict__:
            self.session.watchdog.disarm()
            self.session.watchdog.check()
        placement = self.__dict__.pop("_placement", None)
        if placement is not None:
            placement.__exit__(None, None, None)
        before = self.__dict__.pop("_executed_before", None)
        got = [(name[4:], value) for name, value in self.__dict__.items() if name.startswith("got_")]
        wanted = [self.expected_executions(*pair) for pair in got]
        if before is not None and any(w is not None for w in wanted):
            executed = self.session.executed() - before
            fewest, most = sum(w[0] for w in wanted if w), sum(w[1] for w in wanted if w)
            expect(fewest <= executed <= most, f"{type(self).__name__}: the workers executed {executed} tasks "
                   f"in one sample, expected {fewest}" + (f" to {most}" if most != fewest else ""))
        super().teardown(*params)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def close_to(expected: float, rtol: float, what: str):
    """A predicate for `answers`: within a relative tolerance of `expected`."""
    def check(value) -> bool:
        return abs(float(value) - expected) <= rtol * abs(expected)

    check.__doc__ = f"{what} {expected!r} (relative tolerance {rtol:g})"
    return check
