"""The error path: a task of a small graph raises ZeroDivisionError (the tutorial's `ratio`)."""

from distributed import wait

from dask_bench import workloads

from .common import ClusterBenchmark, Shape


def is_zero_division(error) -> bool:
    """the task's ZeroDivisionError"""
    return isinstance(error, ZeroDivisionError)


class ErrorPath(ClusterBenchmark):
    shape = Shape(workers=2)
    number = 10  # a sample: the mean of 10 calls, each after setup's pause (see futures.SubmitLatency)
    repeat = (12, 20, 3.0)
    answers = {"error": is_zero_division}

    def setup(self):
        super().setup()
        self.failing_graph = workloads.ratio_graph()  # delayed: fresh keys every call
        if "failed" not in self.__dict__:  # one failed future per process to replay
            self.failed = self.client.compute(workloads.ratio_graph())
            wait(self.failed)

    def time_error_surfaces(self):
        """From submission until gather re-raises the task's exception."""
        self.got_error = workloads.error_surfaces(self.client, self.failing_graph)

    def time_recreate_error_locally(self):
        self.got_error = workloads.recreate_error(self.client, self.failed)

    time_error_surfaces.calibration = "paired-2026.8.0-single-segment-5aa-2026-12-05.json"
    time_recreate_error_locally.paired_blocks = 60
    time_recreate_error_locally.paired_segments = 8
    time_recreate_error_locally.calibration = ("paired-2026.8.0-rest-60blocks-8segments.json",
                                               "paired-2026.8.0-8segments-more-aa-2026-12-05.json")
