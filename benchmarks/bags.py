"""dask.bag over the gzipped JSON account records: the tutorial's mean amount of Alice's transactions."""

from dask_bench import datasets, workloads

from .common import WORKER_COUNTS, ClusterBenchmark, Shape, close_to

MEAN_RTOL = 1e-9  # the bag averages partial sums in float64; the manifest divides exact integers


class AccountsBag(ClusterBenchmark):
    params = WORKER_COUNTS
    param_names = ["workers"]
    repeat = (5, 8, 3.0)
    warmup_time = 0

    def cluster_shape(self, workers):
        return Shape(workers=workers)

    def setup(self, workers):
        super().setup(workers)
        self.data = datasets.accounts()
        self.mean_graph = workloads.fresh_keys(workloads.accounts_mean_graph(self.data.paths, self.data.name))

    @property
    def answers(self):
        return {"mean": close_to(self.data.mean_amount, MEAN_RTOL, "the manifest's mean amount")}

    def time_alice_mean(self, workers):
        self.got_mean = workloads.compute(self.client, self.mean_graph)

    time_alice_mean.paired_blocks = {"4": 60, "2": 60}
    time_alice_mean.paired_segments = {"4": 8}
    time_alice_mean.calibration = {"4": ("paired-2026.8.0-rest-60blocks-8segments.json",
                                         "paired-2026.8.0-8segments-more-aa-2026-12-05.json"),
                                   "1": "paired-2026.8.0-single-segment-5aa-2026-12-05.json",
                                   "2": "paired-2026.8.0-more-blocks-5aa-2026-12-05.json"}
