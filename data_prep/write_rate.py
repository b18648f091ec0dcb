"""Measure random.hdf5's write rate against numpy's tofile writing the same bytes on the same disk.

    python -m data_prep.write_rate [--mb 400] [--data-dir DIR] [--repeat 7]

Both writers get the same pre-generated blocks (random generation is not timed) and each run ends
with fsync. The runs alternate; the ratio reported is the median of the --repeat pairs' ratios (the
disk is noisy, a best-of on each side separately is not). The HDF5 writer is the generator's own.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import statistics
import time
from pathlib import Path

import numpy as np

from .manifest import default_data_dir
from .random_array import BLOCK, blocks, write_hdf5


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def time_tofile(path: Path, data: list[np.ndarray]) -> float:
    start = time.perf_counter()
    with open(path, "wb") as f:
        for block in data:
            block.tofile(f)
    _fsync(path)
    return time.perf_counter() - start


def time_hdf5(path: Path, data: list[np.ndarray]) -> float:
    start = time.perf_counter()
    write_hdf5(path, sum(map(len, data)), data)
    _fsync(path)
    return time.perf_counter() - start


def measure(directory: Path, megabytes: int, repeat: int) -> dict:
    elements = megabytes * 1_000_000 // 4
    data = list(blocks(seed=0, elements=elements, block=BLOCK))
    pairs = []
    with tempfile.TemporaryDirectory(dir=directory, prefix=".write-rate-") as tmp:
        for _ in range(repeat):
            pairs.append((time_tofile(Path(tmp, "x.bin"), data), time_hdf5(Path(tmp, "x.hdf5"), data)))
    nbytes = elements * 4
    tofile, hdf5 = (statistics.median(p[i] for p in pairs) for i in (0, 1))
    return {"bytes": nbytes, "tofile_MBps": nbytes / tofile / 1e6, "hdf5_MBps": nbytes / hdf5 / 1e6,
            "ratio": statistics.median(t / h for t, h in pairs)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m data_prep.write_rate", description=__doc__.split("\n")[0])
    parser.add_argument("--mb", type=int, default=400, help="megabytes to write (default 400)")
    parser.add_argument("--data-dir", type=Path, default=None, help="a directory on the disk to measure")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args(argv)
    directory = args.data_dir or default_data_dir()
    directory.mkdir(parents=True, exist_ok=True)
    r = measure(directory, args.mb, args.repeat)
    print(f"{r['bytes'] / 1e6:,.0f} MB in {directory}: tofile {r['tofile_MBps']:,.0f} MB/s, "
          f"random.hdf5 writer {r['hdf5_MBps']:,.0f} MB/s (medians), median ratio {r['ratio']:.0%} (goal: at least 70%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
