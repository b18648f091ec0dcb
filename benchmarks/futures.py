"""Futures: submit latency, map/gather, and the tutorial's inc/dec/add, on 2 workers that are
processes or threads.

A submit().result() round trip has a floor of about 10 ms on a local cluster: the client batches
what it sends to the scheduler every 10 ms (BatchedSend(interval="10ms") in distributed/client.py,
not configurable). The timings include it because every user pays it; it also means a slowdown of
the client's submission path shorter than that window can hide inside one round trip, which
time_dependency_chain and the as_completed throughput do reveal.
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
