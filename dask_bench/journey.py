"""The journey of a task: where a round trip's time goes, phase by phase.

For each task, seven phases between two client timestamps (submission, result in hand), cut by
distributed's own instrumentation: the scheduler's transition log (released -> waiting when the
graph arrived, -> processing when it was sent to a worker, -> memory when the worker reported),
the worker's state-machine log ("compute-task" received, -> executing, executing -> memory).

    submit        client submit() until the scheduler has the task (client batching, network, graph)
    scheduler     on the scheduler: transitions and the choice of a worker
    to_worker     scheduler to worker (the scheduler's batched send, network)
    worker_queue  on the worker until a thread runs it
    execution     the task's function, on a worker thread (with the hand-off to and from it)
    to_scheduler  worker to scheduler (the worker's batched send, network)
    to_client     scheduler to client until the result is in hand

The phases add up to the round trip by construction (each boundary is one timestamp). On one host
all processes share one clock; on an external cluster the clocks differ by their offsets, which
this module estimates (`clock_offsets`: half a round trip of uncertainty) and removes.
"""

from __future__ import annotations

import gc
import sys
import time
from dataclasses import dataclass

from distributed import as_completed

from .tasks import by_value, busy

LOG_LENGTH = 20_000  # distributed.admin.low-level-log-length a 1,000-task map needs (default 1,000)
PHASES = ("submit", "scheduler", "to_worker", "worker_queue", "execution", "to_scheduler", "to_client")


@by_value
def scheduler_marks(keys, dask_scheduler):
    """For each key, the times of its transitions to waiting, processing and memory on the scheduler."""
    wanted, marks = set(keys), {}
    for key, start, finish, _, _, stamp in dask_scheduler.transition_log:
        if key in wanted:
            mine = marks.setdefault(key, {})
            if finish == "waiting" and "waiting" not in mine:
                mine["waiting"] = stamp
            elif finish == "processing":
                mine["processing"] = stamp
            elif finish == "memory":
                mine["memory"] = stamp
    return marks


@by_value
def worker_marks(keys, dask_worker):
    """For each key this worker ran, from its state machine's log (the worker's own clock): when the
    compute-task arrived, when the task began executing and when it was done (-> memory)."""
    wanted, marks = set(keys), {}
    for entry in dask_worker.state.log:
        if not entry or entry[0] not in wanted:
            continue
        if len(entry) == 5 and entry[1] == "compute-task":
            marks.setdefault(entry[0], {})["received"] = entry[4]
        elif len(entry) == 7 and entry[3] == "executing" and entry[1] != "executing":
            marks.setdefault(entry[0], {})["start"] = entry[6]
        elif len(entry) == 7 and entry[1] == "executing" and entry[3] == "memory":
            marks.setdefault(entry[0], {})["stop"] = entry[6]
    return marks


@by_value
def wall_clock():
    return time.time()


class Offsets(dict):
    """Clock offsets by process (seconds), and the largest uncertainty of their estimates."""

    uncertainty = 0.0


def clock_offsets(client, workers=None, tries: int = 5) -> Offsets:
    """Each process's clock minus the client's (seconds), from the best of `tries` round trips:
    offset = remote time - midpoint of the round trip; the uncertainty is half the round trip."""
    best: dict = {}
    for _ in range(tries):
        before = time.time()
        remote = client.run(wall_clock, workers=workers)
        remote["scheduler"] = client.run_on_scheduler(wall_clock)
        after = time.time()
        for who, stamp in remote.items():
            estimate = (stamp - (before + after) / 2, (after - before) / 2)
            if who not in best or estimate[1] < best[who][1]:
                best[who] = estimate
    offsets = Offsets({who: value for who, (value, _) in best.items()})
    offsets.uncertainty = max((half for _, half in best.values()), default=0.0)
    return offsets


def external_offsets(client, workers=None) -> Offsets:
    """clock_offsets of an external cluster's processes, and a line on stderr saying so: there the
    phases are only as exact as these estimates (on one host all share one clock: none are needed)."""
    offsets = clock_offsets(client, workers)
    print(f"journey: external cluster: its clocks' offsets from the client's, estimated "
          f"(±{offsets.uncertainty * 1e3:.2f} ms, half a round trip) and removed: "
          + ", ".join(f"{who} {value * 1e3:+.2f} ms" for who, value in sorted(offsets.items())),
          file=sys.stderr, flush=True)
    return offsets


@dataclass
class Journey:
    phases: dict[str, float]  # seconds, mean per task
    wall: float               # seconds, mean per task: submission to result in hand
    tasks: int

    def fractions(self) -> dict[str, float]:
        return {p: v / self.wall for p, v in self.phases.items()}


def _journeys(client, futures, submitted: float, arrived: dict, offsets: dict | None) -> Journey:
    keys = [f.key for f in futures]
    sched = client.run_on_scheduler(scheduler_marks, keys)
    work: dict = {}
    for worker, marks in client.run(worker_marks, keys).items():
        shift = (offsets or {}).get(worker, 0.0)
        for key, m in marks.items():
            work[key] = {k: v - shift for k, v in m.items()}
    shift = (offsets or {}).get("scheduler", 0.0)
    totals = dict.fromkeys(PHASES, 0.0)
    wall = 0.0
    lost = [key for key in keys if key not in sched or key not in work]
    if lost:
        raise RuntimeError(f"the logs no longer hold {len(lost)} of the {len(keys)} tasks: create the cluster with "
                           f"distributed.admin.low-level-log-length >= {LOG_LENGTH}")
    for key in keys:
        s = {k: v - shift for k, v in sched[key].items()}
        w = work[key]
        bounds = [submitted, s["waiting"], s["processing"], w["received"], w["start"], w["stop"], s["memory"],
                  arrived[key]]
        for phase, (a, b) in zip(PHASES, zip(bounds, bounds[1:])):
            totals[phase] += b - a
        wall += arrived[key] - submitted
    n = len(keys)
    return Journey({p: v / n for p, v in totals.items()}, wall / n, n)


def submit_journey(client, seconds: float = 0.0, offsets=None) -> Journey:
    """One submit(...).result() round trip, phase by phase."""
    submitted = time.time()
    future = client.submit(busy, seconds, pure=False)
    future.result()
    arrived = {future.key: time.time()}
    return _journeys(client, [future], submitted, arrived, offsets)


def map_journey(client, n: int = 1000, seconds: float = 0.0, offsets=None) -> Journey:
    """map() of n tasks, each task's result taken as it completes; phases averaged over the tasks."""
    submitted = time.time()
    futures = client.map(busy, [seconds] * n, pure=False)
    arrived = {}
    for future, _ in as_completed(futures, with_results=True):
        arrived[future.key] = time.time()
    return _journeys(client, futures, submitted, arrived, offsets)


WORKLOADS = {"submit": submit_journey, "map": map_journey}


class PhaseClock:
    """A clock that moves only when told to: asv's `timer` for journey.TaskJourney. The benchmark
    advances it by one measured phase per call, so asv records each phase's time as a sample."""

    reading = 0.0

    @classmethod
    def now(cls) -> float:
        return cls.reading

    @classmethod
    def advance(cls, seconds: float) -> None:
        cls.reading += seconds


def collect(client, workload: str, count: int, repeat: int = 1, pause=None, offsets=None) -> list[dict[str, float]]:
    """`count` samples of a workload's journey, each the mean of `repeat` journeys (each after
    `pause()` seconds); `offsets`: the processes' clock offsets (external_offsets) to remove. Every
    journey is checked: no phase runs backwards, and the phases add up to the round trip, which is
    within the call timed independently (perf_counter)."""
    samples = []
    for _ in range(count):
        totals = dict.fromkeys(PHASES, 0.0)
        for _ in range(repeat):
            if pause:
                time.sleep(pause())
            collecting = gc.isenabled()
            gc.disable()  # as asv times every other benchmark (timeit): no collection inside a journey
            try:
                started = time.perf_counter()
                j = WORKLOADS[workload](client, offsets=offsets)
                elapsed = time.perf_counter() - started
            finally:
                if collecting:
                    gc.enable()
            # a boundary stamped by another clock is only as exact as its offset's estimate
            slack = 1e-4 + 2 * getattr(offsets, "uncertainty", 0.0)
            if any(v < -slack for v in j.phases.values()):
                raise AssertionError(f"{workload}: a phase ran backwards: {j.phases}")
            total = sum(j.phases.values())
            if abs(total - j.wall) > 0.1 * j.wall or j.wall > elapsed:
                raise AssertionError(f"{workload}: phases add up to {total:.6f} s, round trip {j.wall:.6f} s, "
                                     f"call {elapsed:.6f} s")
            for phase, value in j.phases.items():
                totals[phase] += value / repeat
        samples.append(totals)
    return samples
