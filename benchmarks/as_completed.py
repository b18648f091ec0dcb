"""as_completed with dynamic resubmission: throughput across worker counts, and the tutorial's
Rosenbrock random search with a short task instead of its 100 ms sleep.

Each sample is a window of resubmissions (a few hundred ms), not a whole multi-second loop, so a
run collects enough samples for a verdict; tasks per second is WINDOW / time (make report).
"""

import math

from dask_bench import workloads

from .common import TASK_MS, WORKER_COUNTS, ClusterBenchmark, Shape
from .futures import plausible_bytes

WINDOW = workloads.RESUBMIT_WINDOW  # tasks completed per sample of the throughput benchmark
SEARCH_TASK_SECONDS = 0.001
# The tutorial's search (10 starts, scale 5, x0.99 per completion until below 0.001) takes ~850
# evaluations, seconds per sample; shrinking by 0.97 keeps its shape in ~280 evaluations.
SEARCH_SHRINK = 0.97
SEARCH_SEED = 0


class Throughput(ClusterBenchmark):
    """Keep IN_FLIGHT_PER_WORKER tasks queued per worker; submit one more as each completes."""

    params = [WORKER_COUNTS, TASK_MS]
    param_names = ["workers", "task_ms"]
    repeat = (6, 10, 4.0)
    warmup_time = 0
    answers = {"completed": WINDOW}
    executes = {"completed": WINDOW}

    def cluster_shape(self, workers, task_ms):
        return Shape(workers=workers)

    def time_resubmit_window(self, workers, task_ms):
        self.got_completed = workloads.resubmit(self.client, WINDOW, workloads.IN_FLIGHT_PER_WORKER * workers,
                                                task_ms / 1000)

    time_resubmit_window.paired_blocks = {"4": 120}
    time_resubmit_window.calibration = {"4": "paired-2026.8.0-more-blocks-5aa-2026-12-05.json"}
    calibration = "paired-2026.8.0-throughput-5aa-2026-12-05.json"


def rosenbrock_score(x: float, y: float) -> float:
    """The tutorial's function, written out again here: the check must not trust the task's own."""
    return (1 - x) ** 2 + 2 * (y - x * x) ** 2


def near_the_minimum(result) -> bool:
    """a best point within 1 of the known minimum (1, 1), whose score is the function's value there"""
    (x, y), score = result.best_point, result.best_score
    return math.hypot(x - 1, y - 1) < 1.0 and math.isclose(score, rosenbrock_score(x, y), rel_tol=1e-9)


class RosenbrockSearch(ClusterBenchmark):
    params = WORKER_COUNTS
    param_names = ["workers"]
    repeat = (6, 10, 4.0)
    warmup_time = 0
    answers = {"search": near_the_minimum}
    executes = {}  # per sample, from the search's own count: expected_executions

    def cluster_shape(self, workers):
        return Shape(workers=workers)

    def expected_executions(self, name, result):
        # every evaluation the search counted ran on a worker; the tasks in flight when it stopped
        # (one per start) are cancelled and may still run, during this sample or the next one
        return result.evaluations, result.evaluations + 2 * workloads.SEARCH["starts"]

    def time_search(self, workers):
        self.got_search = workloads.rosenbrock_search(self.client, SEARCH_SEED, shrink=SEARCH_SHRINK,
                                                      seconds=SEARCH_TASK_SECONDS)

    time_search.paired_blocks = {"2": 60, "4": 120}
    time_search.paired_segments = {"4": 8}
    time_search.calibration = {"2": "paired-2026.8.0-more-blocks-5aa-2026-12-05.json",
                               "4": "paired-2026.8.0-120blocks-8segments-5aa-2026-12-05.json"}
    calibration = "paired-2026.8.0-single-segment-5aa-2026-12-05.json"


class LargeResubmit(ClusterBenchmark):
    """10,000 resubmissions through as_completed on 4 workers: run by `make load` only."""

    shape = Shape(workers=4, scheduler_process=True)
    rounds = 1
    repeat = (2, 3, 60.0)
    warmup_time = 0
    timeout = 3600
    sample_deadline = 1800
    selection = "load"
    answers = {"completed": workloads.LOAD_RESUBMIT_TASKS}
    executes = {"completed": workloads.LOAD_RESUBMIT_TASKS}

    def _resubmit(self):
        return workloads.resubmit(self.client, workloads.LOAD_RESUBMIT_TASKS, workloads.IN_FLIGHT_PER_WORKER * 4, 0)

    def time_resubmit(self):
        self.got_completed = self._resubmit()

    def track_client_peak_memory(self):
        """Peak resident bytes of the client process during one run (shown, not counted)."""
        return plausible_bytes(workloads.peak_memory_during(self.client, self._resubmit)[1])

    def track_scheduler_peak_memory(self):
        """Peak resident bytes of the scheduler process during one run (shown, not counted)."""
        return plausible_bytes(workloads.peak_memory_during(self.client, self._resubmit)[2])

    track_client_peak_memory.unit = track_scheduler_peak_memory.unit = "bytes"
