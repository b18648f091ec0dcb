"""as_completed with dynamic resubmission: throughput across worker counts, and the tutorial's
Rosenbrock random search with a short task instead of its 100 ms sleep."""

from dask_bench import workloads

from .common import TASK_MS, WORKER_COUNTS, ClusterBenchmark, Shape, best_time, expect

TASKS = 1000
SEARCH_TASK_SECONDS = 0.001
SEARCH_SEED = 0


class Throughput(ClusterBenchmark):
    """Keep IN_FLIGHT_PER_WORKER tasks queued per worker; submit one more as each completes."""

    params = [WORKER_COUNTS, TASK_MS]
    param_names = ["workers", "task_ms"]
    repeat = (2, 3, 4.0)  # one call takes seconds: latency-bound by distributed's batched sends
    warmup_time = 0
    answers = {"completed": TASKS}

    def cluster_shape(self, workers, task_ms):
        return Shape(workers=workers)

    def _run(self, workers, task_ms):
        return workloads.resubmit(self.client, TASKS, workloads.IN_FLIGHT_PER_WORKER * workers, task_ms / 1000)

    def time_resubmit_1000(self, workers, task_ms):
        self.got_completed = self._run(workers, task_ms)

    def track_tasks_per_second(self, workers, task_ms):
        return TASKS / best_time(lambda: self._run(workers, task_ms), 1)

    track_tasks_per_second.unit = "tasks/s"


class RosenbrockSearch(ClusterBenchmark):
    params = WORKER_COUNTS
    param_names = ["workers"]
    repeat = (2, 3, 4.0)
    warmup_time = 0
    @property
    def answers(self):
        def complete_search(result) -> bool:
            """a search of the tutorial's length that ends near the minimum (1, 1)"""
            return result.evaluations == workloads.search_evaluations() and result.distance_to_minimum < 1.0

        return {"search": complete_search}

    def cluster_shape(self, workers):
        return Shape(workers=workers)

    def time_search(self, workers):
        self.got_search = workloads.rosenbrock_search(self.client, SEARCH_SEED, seconds=SEARCH_TASK_SECONDS)

    def track_distance_to_minimum(self, workers):
        result = workloads.rosenbrock_search(self.client, SEARCH_SEED, seconds=SEARCH_TASK_SECONDS)
        expect(result.evaluations == workloads.search_evaluations(), f"{result.evaluations} evaluations")
        return result.distance_to_minimum

    track_distance_to_minimum.unit = "distance"
