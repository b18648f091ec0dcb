"""Profile one workload: the benchmarks' own code on the benchmarks' own cluster harness, under
dask's performance report (task stream, worker and scheduler profiles, bandwidth).

    python -m dask_bench.profile WORKLOAD [--workers 2] [--threads] [--task-ms 0] [--repeat 3]
                                          [--report profile.html]

Workloads: see --help. Graphs get fresh keys before every repetition, as in the benchmarks; the
times printed are of the workload call alone. DASK_BENCH_SCHEDULER and DASK_BENCH_DATA_DIR apply.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

from distributed import performance_report

from . import cluster, datasets, workloads
from .cluster import Shape
from .settings import SettingsError


def _arrays(client):
    data = datasets.random_array()
    return workloads.random_array(data.path, data.dataset)


def _persisted(client):
    persisted = workloads.persist(client, workloads.fresh_keys(_arrays(client)))
    keep = workloads.keys_of(persisted)
    return lambda: workloads.fresh_keys(persisted.sum(), keep=keep)


def _accounts_graph(client):
    data = datasets.accounts()
    return lambda: workloads.fresh_keys(workloads.accounts_mean_graph(data.paths, data.name))


# name -> (what it is, prepare(client, args) -> (make_input() -> input, run(input)))
WORKLOADS = {
    "submit": ("one submit().result() round trip",
               lambda c, a: (lambda: None, lambda _: workloads.submit_result(c))),
    "map": ("map over 1,000 inputs, gather", lambda c, a: (lambda: None, lambda _: workloads.map_gather(c))),
    "chain": ("the tutorial's inc/dec/add with futures",
              lambda c, a: (lambda: None, lambda _: workloads.dependency_chain(c))),
    "delayed": ("the same graph with dask.delayed",
                lambda c, a: (lambda: None, lambda _: workloads.compute_delayed(c))),
    "sum-from-disk": ("sum of the HDF5 array, read on the workers",
                      lambda c, a: ((lambda x: lambda: workloads.fresh_keys(x.sum()))(_arrays(c)),
                                    lambda g: workloads.compute(c, g))),
    "sum-persisted": ("sum of the array persisted in worker memory",
                      lambda c, a: (_persisted(c), lambda g: workloads.compute(c, g))),
    "persist": ("load the array into worker memory",
                lambda c, a: ((lambda x: lambda: workloads.fresh_keys(x))(_arrays(c)),
                              lambda g: workloads.persist(c, g))),
    "bag": ("the accounts bag pipeline: mean amount of one name",
            lambda c, a: (_accounts_graph(c), lambda g: workloads.compute(c, g))),
    "resubmit": ("as_completed: 1,000 tasks with dynamic resubmission",
                 lambda c, a: (lambda: None, lambda _: workloads.resubmit(
                     c, 1000, workloads.IN_FLIGHT_PER_WORKER * a.workers, a.task_ms / 1000))),
    "rosenbrock": ("the tutorial's as_completed random search",
                   lambda c, a: (lambda: None, lambda _: workloads.rosenbrock_search(c, 0))),
    "error": ("a graph whose task raises, until gather re-raises",
              lambda c, a: (workloads.ratio_graph, lambda g: workloads.error_surfaces(c, g))),
}


def _positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of 1 or more")
    return int(text)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dask_bench.profile", description=__doc__.split("\n\n")[0],
        epilog="workloads: " + "; ".join(f"{name}: {what}" for name, (what, _) in WORKLOADS.items()))
    parser.add_argument("workload", choices=list(WORKLOADS))
    parser.add_argument("--workers", type=_positive, default=2)
    parser.add_argument("--threads", action="store_true", help="thread workers (default: processes)")
    parser.add_argument("--task-ms", type=int, default=0, help="task duration for resubmit")
    parser.add_argument("--repeat", type=_positive, default=3)
    parser.add_argument("--report", type=Path, default=Path("profile.html"))
    args = parser.parse_args(argv)
    try:
        session = cluster.session(Shape(workers=args.workers, processes=not args.threads))
        client = session.client
        with session.placement():
            make_input, run = WORKLOADS[args.workload][1](client, args)
            times = []
            # mode="inline": BokehJS inside the page, which then renders offline (no CDN)
            with performance_report(filename=str(args.report), mode="inline"):
                for _ in range(args.repeat):
                    given = make_input()
                    start = time.perf_counter()
                    run(given)
                    times.append(time.perf_counter() - start)
    except (SettingsError, datasets.DataError, NotImplementedError) as exc:
        print(f"profile: error: {exc}", file=sys.stderr)
        return 1
    finally:
        cluster.close()
    print(f"{args.workload} on {session.shape}: " + ", ".join(f"{t * 1e3:.1f} ms" for t in times)
          + f" (median {statistics.median(times) * 1e3:.1f} ms)")
    print(f"performance report: {args.report}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
