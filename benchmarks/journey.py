"""The journey of a task, phase by phase (dask_bench.journey): for a submit().result() round trip and
for one task of a map of 1,000, the time from submission to the scheduler, on the scheduler, to the
worker, queued on the worker, executing, back to the scheduler and back to the client.

The journeys are measured once per run, on one cluster (setup_cache: every phase of a journey comes
from the same task, so the phases add up to its round trip), then each (workload, phase) parameter
records them as its samples: asv's timer here is journey.PhaseClock, which the timed call advances
by one measured phase. So each phase has samples and statistics, and `make compare` judges it by
the same rule as every other benchmark: the history shows which hop moved between releases.
`./compare` (dask_bench.drive) calls `measure` afresh for every block instead, one journey a
sample serving every phase.
"""

import random

import dask

from dask_bench import cluster, journey

from .common import Benchmark, ClusterBenchmark, Shape

SAMPLES = 8
# a sample: the mean journey of 10 submit round trips (each after a pause), or of the 1,000 tasks of a map
PER_SAMPLE = {"submit": 10, "map": 1}


class TaskJourney(Benchmark):
    params = [list(journey.WORKLOADS), list(journey.PHASES)]
    param_names = ["workload", "phase"]
    timer = staticmethod(journey.PhaseClock.now)
    rounds = 1  # every parameter replays the journeys setup_cache measured once
    number = 1
    repeat = (SAMPLES, SAMPLES, 1e9)
    warmup_time = 0
    timeout = 600
    # a block is one journey of its workload: the map's (seconds) needs more of them (docs/decisions.md#journey)
    paired_blocks = {"map": 600, "submit": 120}
    paired_segments = {"map": 30, "submit": 8}
    calibration = {"map": ("paired-2026.8.0-journey-map-600blocks-30segments-2aa-2026-12-05.json",
                           "paired-2026.8.0-journey-map-600blocks-30segments-3aa-2026-12-06.json"),
                   "submit": ("paired-2026.8.0-rest-and-round-trip-journey-by-segments.json",
                              "paired-2026.8.0-8segments-more-aa-2026-12-05.json")}

    def setup_cache(self):
        return self.measure(SAMPLES)

    @staticmethod
    def measure(samples, params=None):
        """`samples` samples of the workloads' journeys (of those in `params`, else all), on one cluster
        (reused within a process): what setup_cache records once per run, and what `./compare`
        takes a sample at a time."""
        workloads = {p[0] for p in params} if params else set(PER_SAMPLE)
        # the scheduler's and workers' logs must hold every transition of a 1,000-task map
        with dask.config.set({"distributed.admin.low-level-log-length": journey.LOG_LENGTH}):
            session = cluster.session(Shape(workers=2))
        settle = ClusterBenchmark.settle
        # an external cluster's clocks are not the client's (session.workers: its workers used): their
        # offsets estimated once per process, so every block `./compare` measures removes the same
        offsets = None
        if session.workers is not None:
            cluster_id = (session.client.scheduler.address, tuple(session.workers))
            if cluster_id not in TaskJourney.offsets:
                TaskJourney.offsets[cluster_id] = journey.external_offsets(session.client, session.workers)
            offsets = TaskJourney.offsets[cluster_id]
        with session.placement():
            return {name: journey.collect(session.client, name, samples, repeat, lambda: random.uniform(*settle),
                                          offsets)
                    for name, repeat in PER_SAMPLE.items() if name in workloads}

    # asv runs setup() before every sample, so the position in the journeys lives in the class: each
    # sample takes the next journey (one process per parameter starts at the first).
    taken: dict = {}
    offsets: dict = {}  # an external cluster's clock offsets, by (scheduler, workers used)

    def time_phase(self, journeys, workload, phase):
        k = TaskJourney.taken.get((workload, phase), 0)
        TaskJourney.taken[(workload, phase)] = k + 1
        samples = journeys[workload]
        journey.PhaseClock.advance(samples[k % len(samples)][phase])

    time_phase.unit = "seconds"
