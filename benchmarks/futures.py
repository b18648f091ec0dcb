"""Futures: submit latency, map/gather, and the tutorial's inc/dec/add, on 2 workers that are
processes or threads.

The client batches what it sends to the scheduler every 10 ms (BatchedSend(interval="10ms") in
distributed/client.py). Back to back, a submit().result() round trip waits for the next window and
costs ~10 ms whatever the submission path costs, so a slowdown shorter than the window hides.
Every sample therefore starts after a pause (ClusterBenchmark.settle): then the round trip is the
real path (~2-5 ms here), and a slower path shows. Per-task cost of map/gather is its median / 1000
(make report shows it).
"""

import os

from dask_bench import workloads

from .common import ClusterBenchmark, Shape, expect

MAP_TASKS = workloads.MAP_TASKS
# the quick selection's sequential calibrations at today's plans, which the round trip and map/gather share
QUICK_CALIBRATIONS = ("sequential-quick-client-1ms-24segments-2026.8.0-2026-12-05.json",
                      "sequential-quick-aa-2026.8.0-2026-12-05.json",
                      "sequential-quick-scheduler-1ms-2026.8.0-2026-12-05.json",
                      "sequential-quick-3sites-1ms-2026.8.0-2026-12-05.json",
                      "sequential-quick-aa3-2026.8.0-2026-12-05.json")


class SubmitLatency(ClusterBenchmark):
    params = ["processes", "threads"]
    param_names = ["workers"]
    # A sample is the mean of 10 round trips, each after its own pause (asv re-runs setup between
    # them and times each alone): single round trips scatter by ~35% with the batching phases.
    number = 10
    repeat = (12, 20, 4.0)
    answers = {"one": 2, "chain": 3, "delayed": 3, "mapped": list(range(1, MAP_TASKS + 1))}

    def cluster_shape(self, workers):
        return Shape(workers=2, processes=workers == "processes")

    executes = {"one": 1, "chain": 3, "delayed": 3, "mapped": MAP_TASKS}

    def time_submit_result(self, workers):
        self.got_one = workloads.submit_result(self.client)

    # How the verdict judges these two (dask_bench/policy.py; the evidence: docs/decisions.md#futures)
    time_submit_result.selection = "quick"
    time_submit_result.factor = 1.05
    time_submit_result.paired_blocks = 240
    time_submit_result.paired_segments = 24
    time_submit_result.sequential = True
    time_submit_result.calibration = {  # every calibration that measured it at its plan: their A/A pairs pooled
        "processes": ("sequential-submit-processes-240blocks-24segments-2026-12-05.json",
                      "sequential-submit-processes-240blocks-24segments-more-aa-2026-12-05.json") + QUICK_CALIBRATIONS,
        "threads": ("sequential-submit-threads-240blocks-24segments-2026-12-05.json",
                    "sequential-quick-client-0.35ms-2026.8.0-2026-12-05.json",
                    "sequential-quick-client-1ms-2026.8.0-2026-12-05.json") + QUICK_CALIBRATIONS}

    def time_map_gather(self, workers):
        self.got_mapped = workloads.map_gather(self.client, MAP_TASKS)

    time_map_gather.number = 1
    time_map_gather.repeat = (5, 8, 8.0)
    time_map_gather.warmup_time = 0
    time_map_gather.selection = "quick"
    time_map_gather.factor = 1.05
    time_map_gather.paired_blocks = 60
    time_map_gather.paired_segments = 12
    time_map_gather.sequential = True
    time_map_gather.calibration = ("sequential-quick-2026.8.0-2026-12-04.json",
                                   "sequential-quick-client-0.35ms-2026.8.0-2026-12-05.json",
                                   "sequential-quick-client-1ms-2026.8.0-2026-12-05.json") + QUICK_CALIBRATIONS

    def time_dependency_chain(self, workers):
        self.got_chain = workloads.dependency_chain(self.client)

    def time_compute_delayed(self, workers):
        self.got_delayed = workloads.compute_delayed(self.client)

    calibration = "paired-2026.8.0-single-segment-5aa-2026-12-05.json"  # the rest of the class


class LargeMap(ClusterBenchmark):
    """map and gather of 100,000 no-op tasks: the load users bring. A sample takes minutes, so it is
    registered here (its history is kept) but run by `make load` only, not by `make bench`."""

    shape = Shape(workers=2, scheduler_process=True)  # the scheduler's memory measured apart
    rounds = 1
    number = 1
    repeat = (2, 3, 60.0)
    warmup_time = 0
    timeout = 3600
    sample_deadline = 1800
    selection = "load"
    answers = {"mapped": list(range(1, workloads.LOAD_MAP_TASKS + 1))}
    executes = {"mapped": workloads.LOAD_MAP_TASKS}

    def time_map_gather(self):
        self.got_mapped = workloads.map_gather(self.client, workloads.LOAD_MAP_TASKS)

    def _peaks(self):
        _, client, scheduler = workloads.peak_memory_during(
            self.client, lambda: workloads.map_gather(self.client, workloads.LOAD_MAP_TASKS))
        return client, scheduler

    def track_client_peak_memory(self):
        """Peak resident bytes of the client process during one map/gather (shown, not counted)."""
        return plausible_bytes(self._peaks()[0])

    def track_scheduler_peak_memory(self):
        """Peak resident bytes of the scheduler process during one map/gather (shown, not counted)."""
        return plausible_bytes(self._peaks()[1])

    track_client_peak_memory.unit = track_scheduler_peak_memory.unit = "bytes"


def plausible_bytes(value: int) -> int:
    """A process's peak memory: more than an empty interpreter, less than the machine."""
    machine = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    expect(10 * 2**20 < value < machine, f"peak memory {value} bytes is outside (10 MiB, {machine})")
    return value
