"""Compute versus persist on the HDF5-backed array (the tutorial's random.hdf5, chunks of 1,000,000).

"From disk" reads through h5py on the workers; after data_prep the file is usually in the OS page
cache, so it measures h5py + dask on warm files, as a re-run in the tutorial does. The persist
speedup is time_sum_from_disk / time_sum_persisted (make report shows it per release).
"""

import os

from dask_bench import datasets, workloads

from .common import ClusterBenchmark, Shape, close_to, expect

SUM_RTOL = 1e-5  # float32 partial sums against the generator's float64 sum
FLOAT32_BYTES = 4  # data_prep writes /x as float32


class ComputePersist(ClusterBenchmark):
    shape = Shape(workers=2)
    repeat = (10, 20, 5.0)
    warmup_time = 0  # setup's persist has already read every chunk on the workers
    timeout = 900  # the full preset reads 4 GB per sample

    def setup(self):
        super().setup()
        self.data = datasets.random_array()
        if "persisted" not in self.__dict__:  # once per benchmark process, like the cluster
            self.array = workloads.random_array(self.data.path, self.data.dataset)
            self.persisted = workloads.persist(self.client, workloads.fresh_keys(self.array))
        # Fresh keys for every sample, so no result can come from what the cluster holds.
        self.sum_from_disk = workloads.fresh_keys(self.array.sum())
        self.sum_persisted = workloads.fresh_keys(self.persisted.sum(), keep=workloads.keys_of(self.persisted))
        self.array_to_persist = workloads.fresh_keys(self.array)

    @property
    def answers(self):
        return {"sum": close_to(self.data.sum, SUM_RTOL, "the manifest's sum of /x"),
                "persisted": self.held_in_full}

    def held_in_full(self, persisted) -> bool:
        """every byte of the array (the manifest's element count x 4) held by the workers"""
        return self.session.held_bytes(workloads.keys_of(persisted)) == self.data.elements * FLOAT32_BYTES

    def time_sum_from_disk(self):
        self.got_sum = workloads.compute(self.client, self.sum_from_disk)

    def time_sum_persisted(self):
        self.got_sum = workloads.compute(self.client, self.sum_persisted)

    time_sum_from_disk.paired_blocks = 60
    time_sum_from_disk.calibration = "paired-2026.8.0-more-blocks-5aa-2026-12-05.json"
    time_sum_persisted.paired_blocks = 120
    time_sum_persisted.paired_segments = 8
    time_sum_persisted.calibration = "paired-2026.8.0-120blocks-8segments-5aa-2026-12-05.json"

    def time_persist(self):
        self.got_persisted = workloads.persist(self.client, self.array_to_persist)

    time_persist.paired_blocks = 60
    time_persist.paired_segments = 8
    time_persist.calibration = ("paired-2026.8.0-rest-60blocks-8segments.json",
                                "paired-2026.8.0-8segments-more-aa-2026-12-05.json")

    def track_cluster_peak_memory(self):
        """Peak resident bytes summed over the workers while they persist the array (one value: shown,
        not counted in verdicts)."""
        del self.persisted, self.sum_persisted  # measure from a cluster that holds nothing
        workloads.wait_until_released(self.client, self.session.workers)
        peak = workloads.cluster_peak_memory(self.client, self.array_to_persist, self.session.workers)
        array_bytes = self.data.elements * FLOAT32_BYTES
        machine_bytes = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        expect(array_bytes < peak < machine_bytes,
               f"peak {peak} bytes is outside (array {array_bytes}, machine memory {machine_bytes})")
        return peak

    track_cluster_peak_memory.unit = "bytes"
    track_cluster_peak_memory.rounds = 1
