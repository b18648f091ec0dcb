"""Shared by every benchmark module: base classes, settings, and how results are checked.

Timed bodies are one line that calls a workload from dask_bench.workloads and keeps what it returns
in self.got_<name>; teardown, outside the timed region, checks it against the class's `answers`,
so a wrong answer fails the benchmark instead of producing a fast wrong number.
"""

from __future__ import annotations

import time

from dask_bench import cluster
from dask_bench.cluster import Shape
from dask_bench.settings import worker_counts

__all__ = ["Benchmark", "ClusterBenchmark", "Shape", "WORKER_COUNTS", "TASK_MS", "best_time", "close_to", "expect"]

WORKER_COUNTS = worker_counts()  # DASK_BENCH_WORKERS, validated: a bad value stops discovery with the fix
TASK_MS = [0, 1]                  # task durations of the throughput benchmarks


class Benchmark:
    """Defaults for every benchmark: one process per benchmark, one call per sample."""

    rounds = 1        # each round is a new process and a new cluster: keep a run within budget
    number = 1        # setup (fresh keys) runs before every call anyway
    repeat = (5, 20, 5.0)  # (min samples, max samples, seconds after which to stop)
    warmup_time = 0.2  # 0 where one call takes seconds: the harness warms every new cluster
    timeout = 300     # asv's fork server counts the whole process: cluster start and all samples

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

    def cluster_shape(self, *params) -> Shape:
        return self.shape

    def setup(self, *params):
        self.session = cluster.session(self.cluster_shape(*params))
        self.client = self.session.client
        # On an external cluster, restrict every graph to this shape's workers (a no-op locally).
        self._placement = self.session.placement()
        self._placement.__enter__()

    def teardown(self, *params):
        placement = self.__dict__.pop("_placement", None)
        if placement is not None:
            placement.__exit__(None, None, None)
        super().teardown(*params)


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise AssertionError(message)


def best_time(run, repeat: int = 3, prepare=None) -> float:
    """Seconds of the fastest of `repeat` calls (for track_ benchmarks that derive a rate):
    run() or, with `prepare`, run(prepare()), where only run is timed (e.g. fresh keys)."""
    best = float("inf")
    for _ in range(repeat):
        given = () if prepare is None else (prepare(),)
        start = time.perf_counter()
        run(*given)
        best = min(best, time.perf_counter() - start)
    return best


def close_to(expected: float, rtol: float, what: str):
    """A predicate for `answers`: within a relative tolerance of `expected`."""
    def check(value) -> bool:
        return abs(float(value) - expected) <= rtol * abs(expected)

    check.__doc__ = f"{what} {expected!r} (relative tolerance {rtol:g})"
    return check
