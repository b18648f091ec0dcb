"""What is timed: plain functions of a client (or, for the baselines, a pool or plain data).

The asv classes in benchmarks/ and the profiler (python -m dask_bench.host.profile) call these same
functions. The workloads follow the Dask tutorial ("distributed, advanced"): inc/dec/add futures,
the accounts bag pipeline, persist of the HDF5 array, the as_completed search, the ratio error.
Functions named *_graph build a graph outside the timed region; `compute` runs one.
"""

from __future__ import annotations

import gzip
import json
import math
import random
import time
import uuid
from concurrent.futures import FIRST_COMPLETED, wait as wait_any
from dataclasses import dataclass
from functools import partial

import dask
import dask.array as da
import dask.bag as db
import h5py
import numpy as np
from dask._task_spec import convert_legacy_graph
from dask.core import flatten
from distributed import as_completed, wait

from .tasks import (add, busy, dec, has_name, inc, peak_memory, ratio, reset_peak_memory, rosenbrock,
                    stored_keys)

ARRAY_CHUNKS = 1_000_000  # the tutorial's chunks=(1000000,)
IN_FLIGHT_PER_WORKER = 4  # as_completed throughput: tasks kept queued per worker
RESUBMIT_WINDOW = 200     # as_completed throughput: tasks completed per timed sample
MAP_TASKS = 1000          # map/gather: tasks per timed call
LOAD_MAP_TASKS = 100_000  # make load: map/gather at the size users bring
LOAD_RESUBMIT_TASKS = 10_000


# -- graphs ------------------------------------------------------------------------------------

def _name(key):
    return key[0] if isinstance(key, tuple) else key


def fresh_keys(collection, keep=()):
    """`collection`, optimized as compute() would, with every key renamed (except those in `keep`).

    Identical keys can be served from what the cluster still holds, so each timed graph gets new
    ones. Compute the result with optimize_graph=False: it is already optimized. (dask's own
    graph_manipulation.clone leaves fused bag tasks pointing at old keys, hence this.)
    """
    (optimized,) = dask.optimize(collection)
    graph = convert_legacy_graph(dict(optimized.__dask_graph__()))
    keep, nonce = set(keep), uuid.uuid4().hex[:12]

    def rename(key):
        return (f"{key[0]}-{nonce}",) + key[1:] if isinstance(key, tuple) else f"{key}-{nonce}"

    subs = {key: rename(key) for key in graph if key not in keep}
    renamed = {subs.get(key, key): node.substitute(subs, key=subs[key]) if key in subs else node
               for key, node in graph.items()}
    rebuild, args = optimized.__dask_postpersist__()
    names = {_name(k): _name(subs[k]) for k in flatten(optimized.__dask_keys__()) if k in subs}
    return rebuild(renamed, *args, rename=names)


def compute(client, graph):
    """Run a graph prepared by fresh_keys on the cluster and return its result."""
    return client.compute(graph, optimize_graph=False).result()


def persist(client, graph):
    """Load a graph prepared by fresh_keys into worker memory and wait until it is there."""
    persisted = client.persist(graph, optimize_graph=False)
    wait(persisted)
    return persisted


def keys_of(collection) -> set:
    return set(flatten(collection.__dask_keys__()))


def wait_until_released(client, workers=None, timeout: float = 60) -> None:
    """Wait until the workers hold no results (releases are asynchronous)."""
    deadline = time.monotonic() + timeout
    while any(client.run(stored_keys, workers=workers).values()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"workers still hold results after {timeout} s")
        time.sleep(0.05)


# -- futures -----------------------------------------------------------------------------------

def submit_result(client):
    """One round trip: submit a task, wait for its result."""
    return client.submit(inc, 1, pure=False).result()


def map_gather(client, n=1000):
    return client.gather(client.map(inc, range(n), pure=False))


def dependency_chain(client):
    """The tutorial's inc/dec/add, futures passed as arguments so the data stays on the cluster."""
    x = client.submit(inc, 1, pure=False)
    y = client.submit(dec, 2, pure=False)
    return client.submit(add, x, y, pure=False).result()


def compute_delayed(client):
    """The same graph built with dask.delayed (fresh keys: delayed is impure by default)."""
    total = dask.delayed(add)(dask.delayed(inc)(1), dask.delayed(dec)(2))
    return client.compute(total).result()


def peak_memory_during(client, run) -> tuple[object, int, int]:
    """run(); returns its result and the peak resident bytes meanwhile of this (the client's) process
    and of the scheduler's process (the same process for a LocalCluster)."""
    reset_peak_memory()
    client.run_on_scheduler(reset_peak_memory)
    result = run()
    return result, peak_memory(), client.run_on_scheduler(peak_memory)


# -- arrays ------------------------------------------------------------------------------------

_open_files: dict[str, h5py.File] = {}


def random_array(path: str, dataset: str = "/x", chunks: int = ARRAY_CHUNKS) -> da.Array:
    """The tutorial's da.from_array over the HDF5 dataset (the file stays open for the process)."""
    if path not in _open_files:
        _open_files[path] = h5py.File(path, mode="r")
    return da.from_array(_open_files[path][dataset], chunks=chunks)


def cluster_peak_memory(client, graph, workers=None) -> int:
    """Persist `graph`, then return the sum over workers of their peak resident memory meanwhile."""
    client.run(reset_peak_memory, workers=workers)
    persisted = persist(client, graph)
    peak = sum(client.run(peak_memory, workers=workers).values())
    del persisted
    return peak


# -- bags --------------------------------------------------------------------------------------

def accounts_mean_graph(paths, name):
    """The tutorial's pipeline: the mean amount of one name's transactions."""
    return (db.read_text(list(paths)).map(json.loads)
            .filter(partial(has_name, name=name))
            .pluck("transactions").flatten().pluck("amount").mean())


def python_accounts_mean(paths, name) -> float:
    """Baseline: the same answer in plain Python, one process."""
    total = count = 0
    for path in paths:
        with gzip.open(path, "rt") as f:
            for line in f:
                record = json.loads(line)
                if record["name"] == name:
                    for transaction in record["transactions"]:
                        total += transaction["amount"]
                        count += 1
    return total / count


# -- as_completed ------------------------------------------------------------------------------

def resubmit(client, total=1000, in_flight=8, seconds=0.0) -> int:
    """Keep `in_flight` tasks queued; submit a new one as each completes, until `total` ran."""
    first = [client.submit(busy, seconds, pure=False) for _ in range(min(in_flight, total))]
    submitted, done = len(first), 0
    completed = as_completed(first)
    del first
    for future in completed:
        if future.status != "finished":
            future.result()  # raises the task's error
        done += 1
        if submitted < total:
            completed.add(client.submit(busy, seconds, pure=False))
            submitted += 1
    return done


def pool_resubmit(pool, total=1000, in_flight=8, seconds=0.0) -> int:
    """Baseline: the same resubmission loop on a concurrent.futures executor."""
    pending = {pool.submit(busy, seconds) for _ in range(min(in_flight, total))}
    submitted, done = len(pending), 0
    while pending:
        finished, pending = wait_any(pending, return_when=FIRST_COMPLETED)
        for future in finished:
            future.result()
            done += 1
            if submitted < total:
                pending.add(pool.submit(busy, seconds))
                submitted += 1
    return done


@dataclass(frozen=True)
class SearchResult:
    best_point: tuple[float, float]
    best_score: float
    evaluations: int

    @property
    def distance_to_minimum(self) -> float:  # the minimum is at (1, 1)
        return math.hypot(self.best_point[0] - 1, self.best_point[1] - 1)


SEARCH = {"starts": 10, "scale": 5.0, "shrink": 0.99, "stop": 0.001}  # the tutorial's


def rosenbrock_search(client, seed=0, starts=SEARCH["starts"], scale=SEARCH["scale"], shrink=SEARCH["shrink"],
                      stop=SEARCH["stop"], seconds=0.001) -> SearchResult:
    """The tutorial's dynamic random search: as each point completes, submit a new one around the
    best so far, shrinking the scale, until it is below `stop`."""
    rng = random.Random(seed)
    best_point, best_score, evaluations = (0.0, 0.0), math.inf, 0

    def submit(x, y):
        return client.submit(rosenbrock, (x, y), seconds, pure=False)

    completed = as_completed([submit(rng.uniform(-scale, scale), rng.uniform(-scale, scale))
                              for _ in range(starts)])
    for future in completed:
        point, score = future.result()
        evaluations += 1
        if score < best_score:
            best_point, best_score = point, score
        x, y = best_point
        completed.add(submit(x + rng.uniform(-scale, scale), y + rng.uniform(-scale, scale)))
        scale *= shrink
        if scale < stop:
            break
    client.cancel(list(completed.futures))  # what is still in flight is not needed
    completed.clear()
    return SearchResult(best_point, best_score, evaluations)


# -- errors ------------------------------------------------------------------------------------

def ratio_graph(numerators=(5, 25, 30), denominators=(5, 0, 6)):
    """The tutorial's failing graph: sum of a // b, one b is zero."""
    return dask.delayed(sum)([dask.delayed(ratio)(a, b) for a, b in zip(numerators, denominators)])


def raises(expected: type[BaseException], func, *args) -> BaseException:
    """Call func(*args); return the `expected` exception it raises (any other propagates)."""
    try:
        func(*args)
    except expected as exc:
        return exc
    raise AssertionError(f"{func} was expected to raise {expected.__name__} and did not")


def error_surfaces(client, graph) -> BaseException:
    """Submit a graph whose task raises; return the ZeroDivisionError its result re-raises."""
    return raises(ZeroDivisionError, lambda: client.compute(graph).result())


def recreate_error(client, failed_future) -> BaseException:
    """Replay the failed task locally, as the tutorial's debugging section does."""
    return raises(ZeroDivisionError, client.recreate_error_locally, failed_future)


# -- plain baselines ---------------------------------------------------------------------------

def pool_submit_result(pool):
    return pool.submit(inc, 1).result()


def load_array(path: str, dataset: str = "/x") -> np.ndarray:
    with h5py.File(path, mode="r") as f:
        return f[dataset][:]


def numpy_sum(array: np.ndarray):
    return array.sum()


def h5py_sum(path: str, dataset: str = "/x", block: int = ARRAY_CHUNKS):
    """Baseline: read the HDF5 dataset block by block in one process and sum it, as dask does."""
    with h5py.File(path, mode="r") as f:
        dset = f[dataset]
        return np.sum([dset[i:i + block].sum() for i in range(0, dset.shape[0], block)], dtype=np.float32)
