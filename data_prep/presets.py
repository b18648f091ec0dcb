"""Dataset sizes. `full` is the Dask tutorial's size; `small` is the default for `make bench`; `tiny` is for tests."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_SEED = 20240101
DEFAULT_PRESET = "small"  # what `make data` and `python -m data_prep` generate
DATASETS = ("accounts", "random")


@dataclass(frozen=True)
class Preset:
    name: str
    accounts_files: int
    transactions_per_file: int
    accounts: int
    random_elements: int

    def params(self, dataset: str) -> dict:
        if dataset == "accounts":
            return {
                "files": self.accounts_files,
                "transactions_per_file": self.transactions_per_file,
                "accounts": self.accounts,
            }
        return {"elements": self.random_elements, "dtype": "float32", "dataset": "/x"}

    def estimated_bytes(self, dataset: str) -> int:
        """A generous upper bound of the bytes a dataset takes on disk (for the free-space check)."""
        if dataset == "accounts":
            # ~45 bytes per transaction before gzip, which keeps well over a third of it.
            return self.accounts_files * self.transactions_per_file * 25 + 64 * 1024
        return self.random_elements * 4 + 64 * 1024


PRESETS = {
    "tiny": Preset("tiny", accounts_files=3, transactions_per_file=1_000, accounts=52,
                   random_elements=1_200_000),
    "small": Preset("small", accounts_files=50, transactions_per_file=10_000, accounts=500,
                    random_elements=100_000_000),
    "full": Preset("full", accounts_files=50, transactions_per_file=100_000, accounts=500,
                   random_elements=1_000_000_000),
}
