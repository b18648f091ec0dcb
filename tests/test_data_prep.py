"""python -m data_prep on real files: determinism, format, expected answers, safety, errors."""

from __future__ import annotations

import gzip
import json
import shutil
import signal
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np
import pytest

from conftest import PY, REPO, data_prep
from data_prep.accounts import NAMES
from data_prep.manifest import load, sha256_of
from data_prep.presets import PRESETS

TINY = PRESETS["tiny"]


def digests(data_dir: Path) -> dict:
    return {p.name: sha256_of(p) for p in sorted(data_dir.iterdir()) if p.name != "manifest.json"}


def assert_one_line_error(proc, *needles):
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_same_seed_gives_identical_files_in_two_directories(tiny_data, tmp_path):
    data_prep("--size", "tiny", "--data-dir", tmp_path, check=True)
    first, second = digests(tiny_data), digests(tmp_path)
    assert sorted(first) == ["accounts.00.json.gz", "accounts.01.json.gz", "accounts.02.json.gz", "random.hdf5"]
    assert first == second
    # and the manifest records exactly these digests
    recorded = {name: meta["sha256"] for entry in load(tmp_path)["datasets"].values()
                for name, meta in entry["files"].items()}
    assert recorded == second


def test_another_seed_gives_other_data(tiny_data, tmp_path):
    data_prep("--size", "tiny", "--seed", "7", "--data-dir", tmp_path, check=True)
    assert set(digests(tiny_data).values()).isdisjoint(digests(tmp_path).values())


def read_records(data_dir: Path):
    for path in sorted(data_dir.glob("accounts.*.json.gz")):
        with gzip.open(path, "rt") as f:
            yield path.name, [json.loads(line) for line in f]


def test_tiny_accounts_format(tiny_data):
    manifest = load(tiny_data)["datasets"]["accounts"]
    seen_tx_ids = set()
    for name, records in read_records(tiny_data):
        meta = manifest["files"][name]
        ids = [r["id"] for r in records]
        assert ids == sorted(set(ids)), "one record per account, in account order"
        assert len(records) == meta["records"]
        assert sum(len(r["transactions"]) for r in records) == meta["transactions"] == TINY.transactions_per_file
        for record in records:
            assert list(record) == ["id", "name", "transactions"]
            assert type(record["id"]) is int and 0 <= record["id"] < TINY.accounts
            assert record["name"] in NAMES
            assert record["transactions"], "only accounts present in the file have a record"
            for tx in record["transactions"]:
                assert list(tx) == ["transaction-id", "amount"]
                assert type(tx["transaction-id"]) is int and type(tx["amount"]) is int
                seen_tx_ids.add(tx["transaction-id"])
    assert len(seen_tx_ids) == TINY.accounts_files * TINY.transactions_per_file, "transaction ids are unique"


def test_account_names_are_stable_across_files(tiny_data):
    names = {}
    for _, records in read_records(tiny_data):
        for record in records:
            assert names.setdefault(record["id"], record["name"]) == record["name"]
    assert "Alice" in names.values()


def test_tiny_random_format_and_expected_sum(tiny_data):
    entry = load(tiny_data)["datasets"]["random"]
    with h5py.File(tiny_data / "random.hdf5", "r") as f:
        assert list(f) == ["x"]
        x = f["/x"]
        assert x.dtype == np.float32 and x.shape == (TINY.random_elements,)
        values = x[:]
    assert values.min() >= 0 and abs(values.mean() - 1) < 0.01  # exponential(1)
    assert entry["files"]["random.hdf5"]["elements"] == TINY.random_elements
    assert entry["expected"]["sum"] == pytest.approx(float(values.sum(dtype=np.float64)), rel=1e-12)


def test_manifest_alice_mean_matches_plain_python(tiny_data):
    amounts = [tx["amount"]
               for _, records in read_records(tiny_data)
               for record in records if record["name"] == "Alice"
               for tx in record["transactions"]]
    expected = load(tiny_data)["datasets"]["accounts"]["expected"]
    assert expected["count"] == len(amounts) > 0
    assert expected["sum_amount"] == sum(amounts)
    assert expected["mean_amount"] == pytest.approx(sum(amounts) / len(amounts), rel=1e-15)


def test_manifest_records_preset_seed_and_version(tiny_data):
    manifest = load(tiny_data)
    for entry in manifest["datasets"].values():
        assert entry["preset"] == "tiny" and entry["seed"] == 20240101 and entry["generator_version"] >= 1
        for meta in entry["files"].values():
            assert meta["size"] > 0 and len(meta["sha256"]) == 64


def test_rerun_with_same_preset_and_seed_writes_nothing(tmp_path):
    data_prep("--size", "tiny", "--data-dir", tmp_path, check=True)
    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    proc = data_prep("--size", "tiny", "--data-dir", tmp_path, check=True)
    assert "nothing to do" in proc.stdout
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == before
    # --force does rewrite, to the same bytes
    old = digests(tmp_path)
    time.sleep(0.01)
    data_prep("--size", "tiny", "--data-dir", tmp_path, "--force", check=True)
    for p in tmp_path.iterdir():
        assert p.stat().st_mtime_ns > before[p.name][1], f"{p.name} was not rewritten"
    assert digests(tmp_path) == old


def test_a_new_preset_replaces_the_old_files(tmp_path):
    data_prep("--size", "tiny", "--dataset", "accounts", "--data-dir", tmp_path, check=True)
    data_prep("--size", "tiny", "--dataset", "accounts", "--seed", "3", "--data-dir", tmp_path, check=True)
    entry = load(tmp_path)["datasets"]["accounts"]
    assert entry["seed"] == 3
    assert data_prep("--verify", "--dataset", "accounts", "--data-dir", tmp_path).returncode == 0


def test_verify_passes_on_fresh_data(tiny_data):
    proc = data_prep("--verify", "--data-dir", tiny_data)
    assert proc.returncode == 0, proc.stderr
    assert "verified 4 files" in proc.stdout


@pytest.fixture
def copy_of_tiny(tiny_data, tmp_path) -> Path:
    target = tmp_path / "data"
    shutil.copytree(tiny_data, target)
    return target


def test_verify_names_a_truncated_file_and_the_fix(copy_of_tiny):
    path = copy_of_tiny / "accounts.01.json.gz"
    path.write_bytes(path.read_bytes()[:-10])
    proc = data_prep("--verify", "--data-dir", copy_of_tiny)
    assert proc.returncode == 1
    assert "accounts.01.json.gz" in proc.stderr and "truncated" in proc.stderr
    assert f"python -m data_prep --dataset accounts --size tiny --data-dir {copy_of_tiny} --force" in proc.stderr


def test_verify_names_an_altered_file_of_the_same_size(copy_of_tiny):
    path = copy_of_tiny / "random.hdf5"
    data = bytearray(path.read_bytes())
    data[-100] ^= 0xFF
    path.write_bytes(bytes(data))
    proc = data_prep("--verify", "--data-dir", copy_of_tiny)
    assert proc.returncode == 1
    assert "random.hdf5" in proc.stderr and "sha256" in proc.stderr and "--force" in proc.stderr


def test_verify_names_a_missing_file(copy_of_tiny):
    (copy_of_tiny / "accounts.02.json.gz").unlink()
    proc = data_prep("--verify", "--dataset", "accounts", "--data-dir", copy_of_tiny)
    assert proc.returncode == 1 and "accounts.02.json.gz: missing" in proc.stderr


def test_verify_without_data_says_how_to_generate_it(tmp_path):
    proc = data_prep("--verify", "--data-dir", tmp_path)
    assert proc.returncode == 1
    assert "python -m data_prep --dataset accounts" in proc.stderr


def _kill_when_partial_appears(args, data_dir: Path, pattern: str) -> None:
    proc = subprocess.Popen([PY, "-m", "data_prep", *args], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    try:
        while not list(data_dir.glob(pattern)):
            assert proc.poll() is None, "the generator finished before it could be interrupted"
            assert time.monotonic() < deadline
            time.sleep(0.005)
        time.sleep(0.05)  # let it write some of the file
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()


def test_a_killed_generation_leaves_nothing_that_verifies(tmp_path):
    # small is 400 MB: slow enough to be killed mid-write
    _kill_when_partial_appears(["--dataset", "random", "--data-dir", tmp_path], tmp_path, ".random.hdf5.partial-*")
    assert not (tmp_path / "random.hdf5").exists()
    proc = data_prep("--verify", "--dataset", "random", "--data-dir", tmp_path)
    assert proc.returncode == 1 and "random: not in" in proc.stderr
    # the next run clears the dead writer's partial file
    data_prep("--dataset", "accounts", "--size", "tiny", "--data-dir", tmp_path, check=True)
    assert not list(tmp_path.glob(".*partial*"))


def test_a_killed_regeneration_does_not_leave_the_old_entry_verifying(copy_of_tiny):
    _kill_when_partial_appears(["--dataset", "random", "--force", "--data-dir", copy_of_tiny], copy_of_tiny,
                               ".random.hdf5.partial-*")
    proc = data_prep("--verify", "--data-dir", copy_of_tiny)
    assert proc.returncode == 1 and "random" in proc.stderr


@pytest.mark.parametrize("args, needle", [
    (["--bogus"], "unrecognized arguments: --bogus"),
    (["--size", "huge"], "invalid choice: 'huge'"),
    (["--dataset", "nope"], "invalid choice: 'nope'"),
    (["--seed", "abc"], "invalid seed 'abc'"),
    (["--seed", "-1"], "invalid seed '-1'"),
])
def test_bad_options_give_a_one_line_error(args, needle, tmp_path):
    proc = data_prep(*args, "--data-dir", tmp_path)
    assert proc.returncode == 2
    assert_one_line_error(proc, needle, "--help")
    assert list(tmp_path.iterdir()) == []


def test_an_unwritable_data_dir_gives_a_one_line_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    proc = data_prep("--size", "tiny", "--data-dir", blocker / "data")
    assert_one_line_error(proc, "a-file", "--data-dir")


@pytest.fixture
def tmpfs(tmp_path):
    """Mount a real tmpfs of the given size in MB (root only; the CI machine runs tests as root)."""
    mounts = []

    def mount(megabytes: int) -> Path:
        point = tmp_path / f"mnt{len(mounts)}"
        point.mkdir()
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={megabytes}m", "tmpfs", str(point)],
                          capture_output=True).returncode != 0:
            pytest.skip("cannot mount a tmpfs here (needs root)")
        mounts.append(point)
        return point

    yield mount
    for point in mounts:
        subprocess.run(["umount", str(point)], check=True)


def test_a_full_disk_gives_a_one_line_error_and_no_partial_file(tmpfs):
    disk = tmpfs(3)  # tiny's random.hdf5 is 4.8 MB
    proc = data_prep("--size", "tiny", "--dataset", "random", "--data-dir", disk)
    assert_one_line_error(proc, "disk space", "--data-dir")
    assert [p.name for p in disk.iterdir() if p.name != "manifest.json"] == []


def test_a_disk_that_fills_mid_write_gives_a_one_line_error_and_no_partial_file(tmpfs):
    # The free-space check passes, then another writer takes most of the disk before random.hdf5
    # is written: the generator meets a real ENOSPC from h5py.
    disk = tmpfs(8)
    script = ("import sys, data_prep.cli as c, data_prep.random_array as r\n"
              "orig = r.write_hdf5\n"
              "def fill_then_write(*a):\n"
              "    open(sys.argv[1] + '/ballast', 'wb').write(b'\\0' * 6_000_000)\n"
              "    return orig(*a)\n"
              "r.write_hdf5 = fill_then_write\n"
              "sys.exit(c.main(['--size', 'tiny', '--dataset', 'random', '--data-dir', sys.argv[1]]))\n")
    proc = subprocess.run([PY, "-c", script, str(disk)], cwd=REPO, capture_output=True, text=True)
    assert_one_line_error(proc, "No space left on device", "free some disk space")
    assert sorted(p.name for p in disk.iterdir()) == ["ballast", "manifest.json"]
