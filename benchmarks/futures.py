"""Futures: submit latency, map/gather, and the tutorial's inc/dec/add, on 2 workers that are
processes or threads.

A submit().result() round trip cannot beat the client's batched-send interval (a few ms, see
distributed.comm batched sends); these timings include it because every user pays it.
"""

from dask_bench import workloads

from .common import ClusterBenchmark, Shape, best_time

MAP_TASKS = 1000


class SubmitLatency(ClusterBenchmark):
    params = ["processes", "threads"]
    param_names = ["workers"]
    repeat = (10, 50, 3.0)
    answers = {"one": 2, "chain": 3, "delayed": 3, "mapped": list(range(1, MAP_TASKS + 1))}

    def cluster_shape(self, workers):
        return Shape(workers=2, processes=workers == "processes")

    def time_submit_result(self, workers):
        self.got_one = workloads.submit_result(self.client)

    def time_map_gather(self, workers):
        self.got_mapped = workloads.map_gather(self.client, MAP_TASKS)

    time_map_gather.repeat = (3, 5, 5.0)
    time_map_gather.warmup_time = 0

    def track_map_us_per_task(self, workers):
        return best_time(lambda: workloads.map_gather(self.client, MAP_TASKS), 2) / MAP_TASKS * 1e6

    track_map_us_per_task.unit = "us/task"

    def time_dependency_chain(self, workers):
        self.got_chain = workloads.dependency_chain(self.client)

    def time_compute_delayed(self, workers):
        self.got_delayed = workloads.compute_delayed(self.client)
