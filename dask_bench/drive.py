"""The suite's benchmarks, driven the way asv drives them, from tools that run inside an asv
environment (dask_bench.profile_run, and the paired A/B server below).

    python -m dask_bench.drive --serve LABEL [LABEL ...]

--serve drives benchmarks (asv labels, parameters included) on their own class and cluster shape:
one warm-up sample (the cluster starts there), then "ready" on stdout; then, for every line N on
stdin, N samples and one JSON line {"samples": {label: [...]}} back; an empty line or 0 ends it.
One label, or several of one class whose samples replay a measurement (journey.TaskJourney: one
journey gives every phase, so one measurement a sample serves them all). The host tool
dask_bench.host.paired runs two of these (one per revision) side by side.
"""

from __future__ import annotations

import argparse
import functools
import importlib
import inspect
import itertools
import json
import pkgutil
import re
import signal
import sys
import time

from . import cluster

BENCHMARK_PACKAGE = "benchmarks"


def _param_lists(cls) -> list[list]:
    params = getattr(cls, "params", [])
    if params and not isinstance(params[0], (list, tuple)):
        params = [params]
    return [list(p) for p in params]


def benchmarks() -> dict[str, tuple[type, str, tuple]]:
    """{asv label: (class, method name, parameter values)} of every benchmark of the suite."""
    import benchmarks as package
    from benchmarks.common import Benchmark

    found = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{BENCHMARK_PACKAGE}.{info.name}")
        for cls_name, cls in vars(module).items():
            if not (inspect.isclass(cls) and issubclass(cls, Benchmark) and cls.__module__ == module.__name__):
                continue
            for method in sorted(m for m in dir(cls) if m.startswith(("time_", "track_"))):
                name = f"{info.name}.{cls_name}.{method}"
                for combo in itertools.product(*_param_lists(cls)):
                    label = f"{name}({', '.join(repr(p) for p in combo)})" if combo else name
                    found[label] = (cls, method, combo)
    return found


def matching(regex: str) -> list[str]:
    pattern = re.compile(regex)
    return [label for label in benchmarks() if pattern.search(label)]


class Driven:
    """One benchmark of the suite: its class's setup_cache once, then per sample setup, one call of
    the method (timed alone) and teardown with its checks, as asv does with number = 1. A class
    whose samples replay a measurement (its own timer, see `replays`) takes a fresh cache a sample."""

    def __init__(self, label: str, fresh_caches: bool = False):
        cls, self.method_name, params = benchmarks()[label]
        self.bench = cls()
        self.params = tuple(params)
        self.cached = hasattr(self.bench, "setup_cache")
        # fresh_caches: every sample is handed its own (Served), so setup_cache never runs here
        self.cache = self.bench.setup_cache() if self.cached and not fresh_caches else None
        self.method = getattr(self.bench, self.method_name)
        self.timer = getattr(cls, "timer", time.perf_counter)  # asv's: a class may bring its own clock

    @property
    def is_time(self) -> bool:
        return self.method_name.startswith("time_")

    def sample(self, cache=None) -> float:
        """Seconds of one call (a time_ benchmark) or the value it returns (a track_ one); a wrong
        answer fails here, in the benchmark's own teardown. `cache`: instead of setup_cache's."""
        args = ((self.cache if cache is None else cache,) if self.cached else ()) + self.params
        if hasattr(self.bench, "setup"):
            self.bench.setup(*args)
        try:
            started = self.timer()
            value = self.method(*args)
            elapsed = self.timer() - started
        finally:
            if hasattr(self.bench, "teardown"):
                self.bench.teardown(*args)
        return elapsed if self.is_time else value


def replays(cls) -> bool:
    """Samples that replay what the class measured beforehand (its own timer, journey.TaskJourney);
    it can measure afresh (`measure(samples, params)`: what its setup_cache returns, for the given
    parameter combinations) for a paired block."""
    return getattr(cls, "timer", None) is not None and callable(getattr(cls, "measure", None))


def pairable(label: str, entry: tuple) -> bool:
    """A time_ benchmark that measures in its samples, or replays a measurement it can take afresh:
    not a track_ value, nor samples that only replay what setup_cache measured once."""
    cls, method_name, _ = entry
    return method_name.startswith("time_") and (getattr(cls, "timer", None) is None or replays(cls))


def units(labels: list[str]) -> list[list[str]]:
    """The labels grouped by what one server measures: a label alone, or those of one replaying class
    that share its first parameter (one journey of a workload serves every phase; each workload is
    its own unit, so each gets the blocks it needs: a map journey takes seconds, a round trip ms)."""
    entries = benchmarks()
    grouped: dict = {}
    for label in labels:
        cls, _, params = entries[label]
        grouped.setdefault((cls, params[:1]) if replays(cls) else label, []).append(label)
    return list(grouped.values())


class Served:
    """The samples of one unit (see `units`): {label: value} a sample."""

    def __init__(self, labels: list[str]):
        entries = benchmarks()
        for label in labels:  # refused before setup_cache starts anything
            if not pairable(label, entries[label]):
                raise NotImplementedError(f"{label} cannot be paired: a track_ value, "
                                          "or samples measured once in setup_cache")
        if len(units(labels)) != 1:
            raise NotImplementedError("several labels are served together only if one measurement gives them all "
                                      "(one workload of a replaying class, e.g. journey.TaskJourney's 'map')")
        cls = entries[labels[0]][0]
        if replays(cls):  # what these labels replay, measured afresh (the class picks from their params)
            self.fresh = functools.partial(cls().measure, params=[entries[label][2] for label in labels])
        else:
            self.fresh = None
        self.driven = {label: Driven(label, fresh_caches=self.fresh is not None) for label in labels}

    def sample(self) -> dict[str, float]:
        cache = self.fresh(1) if self.fresh else None  # one measurement serves every label of the unit
        return {label: driven.sample(cache) for label, driven in self.driven.items()}


def serve(labels: list[str]) -> int:
    served = Served(labels)
    served.sample()  # warm: the cluster starts here, as in asv's warm-up
    print(json.dumps({"ready": labels}), flush=True)
    for line in sys.stdin:
        count = int(line.strip() or 0)
        if count <= 0:
            break
        samples = [served.sample() for _ in range(count)]
        print(json.dumps({"samples": {label: [s[label] for s in samples] for label in labels}}), flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.drive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", metavar="LABEL", nargs="+", required=True)
    args = parser.parse_args(argv)
    unknown = [label for label in args.serve if label not in benchmarks()]
    if unknown:
        print(f"drive: error: no benchmark {unknown[0]!r}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        return serve(args.serve)
    except (NotImplementedError, AssertionError) as exc:
        print(f"drive: error: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return 1
    finally:
        cluster.close()


if __name__ == "__main__":
    sys.exit(main())
