"""accounts.NN.json.gz: the Dask tutorial's bank-account records, as gzipped JSON lines.

Each file holds one record per account that has transactions in it:
{"id": int, "name": str, "transactions": [{"transaction-id": int, "amount": int}, ...]}
Accounts are shared by all files; each transaction picks an account by its frequency weight and has
amount = int((normal(0, 1) + trend) * magnitude), as in the tutorial's prep.py.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

from .files import atomic_path
from .manifest import sha256_of
from .presets import Preset

NAMES = (
    "Alice Bob Charlie Dan Edith Frank George Hannah Ingrid Jerry Kevin Laura Michael Norbert "
    "Oliver Patricia Quinn Ray Sarah Tim Ursula Victor Wendy Xavier Yvonne Zelda"
).split()
CHECKED_NAME = "Alice"  # the benchmarks compute this name's mean amount
_STREAM = 1  # separates these random streams from random.hdf5's for the same seed
_TRANSACTION = '{"transaction-id": %d, "amount": %d}'


def file_name(index: int) -> str:
    return f"accounts.{index:02d}.json.gz"


def account_params(seed: int, n_accounts: int):
    rng = np.random.default_rng([seed, _STREAM])
    # Every name is drawn about equally often, so every preset has accounts named Alice.
    names = np.array(NAMES)[rng.permutation(n_accounts) % len(NAMES)]
    magnitude = rng.exponential(100, size=n_accounts)
    trend = rng.normal(10, 10, size=n_accounts)
    weight = rng.exponential(size=n_accounts)
    return names, magnitude, trend, weight / weight.sum()


def transactions(seed: int, index: int, n: int, params):
    """Account ids, transaction ids and amounts of file `index`, ordered by account, then transaction."""
    names, magnitude, trend, weight = params
    rng = np.random.default_rng([seed, _STREAM, index])
    account = rng.choice(len(names), size=n, p=weight)
    # astype truncates toward zero, exactly like int().
    amount = ((rng.standard_normal(n) + trend[account]) * magnitude[account]).astype(np.int64)
    order = np.argsort(account, kind="stable")
    return account[order], index * n + order, amount[order]


def render(names, account, transaction_id, amount) -> bytes:
    """JSON lines, one per account, in account order; the same text json.dumps gives."""
    starts = np.flatnonzero(np.r_[True, account[1:] != account[:-1]])
    stops = np.r_[starts[1:], len(account)]
    pairs = list(zip(transaction_id.tolist(), amount.tolist()))
    lines = []
    for start, stop in zip(starts.tolist(), stops.tolist()):
        acct = int(account[start])
        body = ", ".join(map(_TRANSACTION.__mod__, pairs[start:stop]))
        lines.append(f'{{"id": {acct}, "name": "{names[acct]}", "transactions": [{body}]}}\n')
    return "".join(lines).encode()


def generate(data_dir: Path, preset: Preset, seed: int, progress) -> dict:
    params = account_params(seed, preset.accounts)
    names = params[0]
    files, checked_sum, checked_count = {}, 0, 0
    for index in progress(range(preset.accounts_files), desc="accounts", unit="file"):
        account, transaction_id, amount = transactions(seed, index, preset.transactions_per_file, params)
        checked = names[account] == CHECKED_NAME
        checked_sum += int(amount[checked].sum())
        checked_count += int(checked.sum())
        final = data_dir / file_name(index)
        with atomic_path(final) as tmp:
            with open(tmp, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz:
                gz.write(render(names, account, transaction_id, amount))
        files[final.name] = {
            "size": final.stat().st_size,
            "sha256": sha256_of(final),
            "records": int(len(np.unique(account))),
            "transactions": int(len(account)),
        }
    if checked_count == 0:
        raise ValueError(f"seed {seed} gives no transactions for {CHECKED_NAME}; choose another --seed")
    return {
        "files": files,
        "expected": {
            "name": CHECKED_NAME,
            "mean_amount": checked_sum / checked_count,
            "sum_amount": checked_sum,
            "count": checked_count,
        },
    }
