"""What a user would pick instead of dask, on the same data and machine.

Classes and methods share the names of the dask benchmarks they stand beside: baselines.X.m is the
baseline of <module>.X.m (futures.SubmitLatency, arrays.ComputePersist, bags.AccountsBag,
as_completed.Throughput), so reports can pair them by name.
"""

from dask_bench import cluster, datasets, workloads

from .arrays import SUM_RTOL
from .as_completed import WINDOW
from .bags import MEAN_RTOL
from .common import TASK_MS, WORKER_COUNTS, Benchmark, close_to

counted = False  # they do not run distributed: shown beside it, never counted in a verdict


class SubmitLatency(Benchmark):
    """concurrent.futures.ProcessPoolExecutor with 2 processes, warm."""

    repeat = (10, 100, 0.5)
    answers = {"one": 2}

    def setup(self):
        self.pool = cluster.pool(2)

    def time_submit_result(self):
        self.got_one = workloads.pool_submit_result(self.pool)


class ComputePersist(Benchmark):
    """numpy on the array in memory, and h5py + numpy reading it in one process."""

    repeat = (5, 10, 1.5)
    timeout = 900

    def setup(self):
        self.data = datasets.random_array()
        if "in_memory" not in self.__dict__:  # loaded once per benchmark process
            self.in_memory = workloads.load_array(self.data.path, self.data.dataset)

    @property
    def answers(self):
        return {"sum": close_to(self.data.sum, SUM_RTOL, "the manifest's sum of /x")}

    def time_sum_persisted(self):
        self.got_sum = workloads.numpy_sum(self.in_memory)

    def time_sum_from_disk(self):
        self.got_sum = workloads.h5py_sum(self.data.path, self.data.dataset)


class AccountsBag(Benchmark):
    """Plain Python over the same gzipped files, in one process."""

    repeat = (3, 5, 1.5)
    warmup_time = 0

    def setup(self):
        self.data = datasets.accounts()

    @property
    def answers(self):
        return {"mean": close_to(self.data.mean_amount, MEAN_RTOL, "the manifest's mean amount")}

    def time_alice_mean(self):
        self.got_mean = workloads.python_accounts_mean(self.data.paths, self.data.name)


class Throughput(Benchmark):
    """The same resubmission window on a ProcessPoolExecutor with as many processes as workers."""

    params = [WORKER_COUNTS, TASK_MS]
    param_names = ["workers", "task_ms"]
    repeat = (5, 10, 1.5)
    warmup_time = 0
    answers = {"completed": WINDOW}

    def setup(self, workers, task_ms):
        self.pool = cluster.pool(workers)

    def time_resubmit_window(self, workers, task_ms):
        self.got_completed = workloads.pool_resubmit(self.pool, WINDOW, workloads.IN_FLIGHT_PER_WORKER * workers,
                                                     task_ms / 1000)
