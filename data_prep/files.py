"""Write files so that an interrupted run never leaves one that looks complete."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from .manifest import TMP_MARKER


@contextlib.contextmanager
def atomic_path(final: Path):
    """Yield a temporary path beside `final`; rename it to `final` only if the block completes.

    The temporary name starts with a dot and carries the writer's pid, so it can never be
    mistaken for a dataset file, and a later run can tell a dead writer's leftovers from its own.
    """
    tmp = final.with_name(f".{final.name}{TMP_MARKER}{os.getpid()}")
    try:
        yield tmp
        os.replace(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def remove_stale_partials(data_dir: Path) -> list[Path]:
    """Delete temporary files left by writers that no longer run (killed mid-write)."""
    removed = []
    for path in data_dir.glob(f".*{TMP_MARKER}*"):
        pid = path.name.rsplit(TMP_MARKER, 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def check_free_space(data_dir: Path, needed: int) -> None:
    free = shutil.disk_usage(data_dir).free
    if free < needed:
        raise OSError(f"not enough free disk space in {data_dir}: needs about {needed / 1e6:,.0f} MB, "
                      f"{free / 1e6:,.0f} MB free; free some space or choose another --data-dir")
