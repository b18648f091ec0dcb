"""The functions that run as tasks on workers.

Each is wrapped by `by_value`, so it pickles by value (with cloudpickle): a worker or scheduler
that does not have this repository can still run it, which `DASK_BENCH_SCHEDULER` needs. That is
also how the tutorial's notebook functions travel, so the per-task cost is the realistic one.
"""

from __future__ import annotations

import functools
import os
import resource
import sys
import time

import cloudpickle


class _ByValue:
    def __init__(self, func):
        functools.update_wrapper(self, func)
        self._func = func
        self._payload = None

    def __call__(self, *args, **kwargs):
        return self._func(*args, **kwargs)

    def __reduce__(self):
        if self._payload is None:
            module = sys.modules[self._func.__module__]
            cloudpickle.register_pickle_by_value(module)
            try:
                self._payload = cloudpickle.dumps(self._func)
            finally:
                cloudpickle.unregister_pickle_by_value(module)
        return cloudpickle.loads, (self._payload,)

    def __dask_tokenize__(self):
        return (self._func.__module__, self._func.__qualname__)

    def __repr__(self):
        return f"<task {self._func.__qualname__}>"


def by_value(func):
    """Make `func` pickle by value: remote workers need not have this repository."""
    return _ByValue(func)


# The tutorial's functions, without their sleeps: what is measured is the scheduling.
@by_value
def inc(x):
    return x + 1


@by_value
def dec(x):
    return x - 1


@by_value
def add(x, y):
    return x + y


@by_value
def ratio(a, b):
    return a // b


@by_value
def busy(seconds):
    """A task that takes `seconds` (0: return at once)."""
    if seconds:
        time.sleep(seconds)
    return seconds


@by_value
def rosenbrock(point, seconds=0.0):
    """The tutorial's function of interest; returns the point and its score."""
    if seconds:
        time.sleep(seconds)
    score = (1 - point[0]) ** 2 + 2 * (point[1] - point[0] ** 2) ** 2
    return point, score


@by_value
def has_name(record, name):
    return record["name"] == name


@by_value
def reset_peak_memory():
    """Reset this process's peak resident memory (Linux); False where that is not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@by_value
def peak_memory():
    """This process's peak resident memory in bytes (since the last reset where supported)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


@by_value
def process_id():
    return os.getpid()


@by_value
def stored_keys(dask_worker):
    """How many results this worker holds (client.run passes the worker as dask_worker)."""
    return len(dask_worker.data)


@by_value
def executed_count(dask_worker):
    """How many tasks this worker has executed since it started (the worker's own count)."""
    return dask_worker.state.executed_count


@by_value
def held_bytes(keys, dask_worker):
    """The bytes of the results this worker holds among `keys`."""
    return sum(int(getattr(dask_worker.data[key], "nbytes", 0)) for key in keys if key in dask_worker.data)


@by_value
def versions():
    """This process's distributed and dask versions."""
    import dask
    import distributed

    return {"distributed": distributed.__version__, "dask": dask.__version__}


@by_value
def scheduler_settings(dask_scheduler):
    """What the running scheduler uses of the settings `make ab` varies (read from the scheduler itself)."""
    return {"worker-saturation": dask_scheduler.WORKER_SATURATION,
            "work-stealing": "stealing" in dask_scheduler.extensions}
