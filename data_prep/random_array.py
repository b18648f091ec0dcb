"""random.hdf5: one 1-D float32 dataset /x of exponential(1) values, as in the Dask tutorial.

Written block by block into a contiguous dataset, so memory stays at one block whatever the size.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import h5py
import numpy as np

from .files import atomic_path
from .manifest import sha256_of
from .presets import Preset

FILE_NAME = "random.hdf5"
DATASET = "/x"
BLOCK = 1 << 22  # elements per write: 16 MiB of float32
_STREAM = 2


def blocks(seed: int, elements: int, block: int = BLOCK) -> Iterable[np.ndarray]:
    rng = np.random.default_rng([seed, _STREAM])
    for start in range(0, elements, block):
        yield rng.standard_exponential(min(block, elements - start), dtype=np.float32)


def write_hdf5(path: Path, elements: int, data: Iterable[np.ndarray]) -> None:
    """Write the blocks of `data`, in order, into /x of a new file at `path`."""
    with h5py.File(path, "w") as f:
        # track_times=False keeps the file byte-identical from run to run.
        dset = f.create_dataset(DATASET, shape=(elements,), dtype="f4", track_times=False)
        start = 0
        for block in data:
            dset.write_direct(block, dest_sel=np.s_[start:start + len(block)])
            start += len(block)
    if start != elements:
        raise RuntimeError(f"wrote {start} of {elements} elements")


def generate(data_dir: Path, preset: Preset, seed: int, progress) -> dict:
    n = preset.random_elements
    final = data_dir / FILE_NAME
    bar = progress(total=n * 4, desc="random.hdf5", unit="B", unit_scale=True)

    total = 0.0

    def summed():  # the expected answer, accumulated in float64 as each block is generated
        nonlocal total
        for block in blocks(seed, n):
            total += float(block.sum(dtype=np.float64))
            yield block
            bar.update(block.nbytes)

    with bar, atomic_path(final) as tmp:
        write_hdf5(tmp, n, summed())
    return {
        "files": {final.name: {"size": final.stat().st_size, "sha256": sha256_of(final), "elements": n}},
        "expected": {"sum": total},
    }
