"""The suite's benchmarks, driven the way asv drives them, from tools that run inside an asv
environment (dask_bench.profile_run, and the paired A/B server below).

    python -m dask_bench.drive --serve LABEL

--serve drives one benchmark (its asv label, parameters included) on its own class and cluster
shape: one warm-up sample (the cluster starts there), then "ready" on stdout; then, for every line
N on stdin, N samples and one JSON line {"samples": [...]} back; an empty line or 0 ends it. The
host tool dask_bench.paired runs two of these (one per revision) side by side.
"""

from __future__ import annotations

import argparse
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
    the method (timed alone) and teardown with its checks, as asv does with number = 1."""

    def __init__(self, label: str):
        cls, self.method_name, params = benchmarks()[label]
        self.bench = cls()
        cache = self.bench.setup_cache() if hasattr(self.bench, "setup_cache") else None
        self.args = ((cache,) if hasattr(self.bench, "setup_cache") else ()) + tuple(params)
        self.method = getattr(self.bench, self.method_name)
        self.timer = getattr(cls, "timer", time.perf_counter)  # asv's: a class may bring its own clock

    @property
    def is_time(self) -> bool:
        return self.method_name.startswith("time_")

    def sample(self) -> float:
        """Seconds of one call (a time_ benchmark) or the value it returns (a track_ one); a wrong
        answer fails here, in the benchmark's own teardown."""
        if hasattr(self.bench, "setup"):
            self.bench.setup(*self.args)
        try:
            started = self.timer()
            value = self.method(*self.args)
            elapsed = self.timer() - started
        finally:
            if hasattr(self.bench, "teardown"):
                self.bench.teardown(*self.args)
        return elapsed if self.is_time else value


def pairable(label: str, entry: tuple) -> bool:
    """A time_ benchmark that measures in its samples: not one whose samples replay what setup_cache
    measured once (a class with its own timer, journey.TaskJourney)."""
    cls, method_name, _ = entry
    return method_name.startswith("time_") and getattr(cls, "timer", None) is None


def serve(label: str) -> int:
    if not pairable(label, benchmarks()[label]):  # refused before setup_cache starts anything
        raise NotImplementedError("cannot be paired: a track_ value, or samples measured once in setup_cache")
    driven = Driven(label)
    driven.sample()  # warm: the cluster starts here, as in asv's warm-up
    print(json.dumps({"ready": label}), flush=True)
    for line in sys.stdin:
        count = int(line.strip() or 0)
        if count <= 0:
            break
        print(json.dumps({"samples": [driven.sample() for _ in range(count)]}), flush=True)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dask_bench.drive", description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", metavar="LABEL", required=True)
    args = parser.parse_args(argv)
    if args.serve not in benchmarks():
        print(f"drive: error: no benchmark {args.serve!r}", file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    try:
        return serve(args.serve)
    except (NotImplementedError, AssertionError) as exc:
        print(f"drive: error: {args.serve}: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return 1
    finally:
        cluster.close()


if __name__ == "__main__":
    sys.exit(main())
