"""What a user would pick instead of dask, on the same data and machine.

Classes and methods share the names of the dask benchmarks they stand beside: baselines.X.m is the
baseline of <module>.X.m (futures.SubmitLatency, arrays.ComputePersist, bags.AccountsBag,
as_completed.Throughput), so reports can pair them by name.
"""

from dask_bench import cluster, datasets, workloads

from .arrays import SUM_RTOL
from .as_completed import TASKS
from .bags import MEAN_RTOL
from .common import TASK_MS, WORKER_COUNTS, Benchmark, best_time, close_to


class SubmitLatency(Benchmark):
    """concurrent.futures.ProcessPoolExecutor with 2 processes, warm."""

    repeat = (10, 200, 1.0)
    answers = {"one": 2}

    def setup(self):
        self.pool = cluster.pool(2)

    def time_submit_result(self):
        self.got_one = workloads.pool_submit_result(self.pool)


class ComputePersist(Benchmark):
    """numpy on the array in memory, and h5py + numpy reading it in one process."""

    repeat = (5, 20, 3.0)
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

    repeat = (3, 10, 3.0)
    warmup_time = 0

    def setup(self):
        self.data = datasets.accounts()

    @property
    def answers(self):
        return {"mean": close_to(self.data.mean_amount, MEAN_RTOL, "the manifest's mean amount")}

    def time_alice_mean(self):
        self.got_mean = workloads.python_accounts_mean(self.data.paths, self.data.name)


class Throughput(Benchmark):
    """The same resubmission loop on a ProcessPoolExecutor with as many processes as workers."""

    params = [WORKER_COUNTS, TASK_MS]
    param_names = ["workers", "task_ms"]
    repeat = (2, 5, 3.0)
    warmup_time = 0
    answers = {"completed": TASKS}

    def setup(self, workers, task_ms):
        self.pool = cluster.pool(workers)

    def _run(self, workers, task_ms):
        return workloads.pool_resubmit(self.pool, TASKS, workloads.IN_FLIGHT_PER_WORKER * workers, task_ms / 1000)

    def time_resubmit_1000(self, workers, task_ms):
        self.got_completed = self._run(workers, task_ms)

    def track_tasks_per_second(self, workers, task_ms):
        return TASKS / best_time(lambda: self._run(workers, task_ms), 2)

    track_tasks_per_second.unit = "tasks/s"
