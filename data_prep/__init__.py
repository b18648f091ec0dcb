"""Deterministic generators for the datasets the benchmarks read (the Dask tutorial's accounts and random).

`python -m data_prep --help` for the command line; `data_prep.manifest` for reading what was generated.
"""
