"""The tools that run on the host, outside asv's environments: they build, measure (by running asv
or the servers of dask_bench.drive in those environments), read asv results, judge and report.
What runs inside the environments, on every distributed version measured, is dask_bench itself."""
