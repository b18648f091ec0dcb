"""Clean up after a benchmark process however it ends.

asv runs each benchmark in a child forked from its server, and that child ends with os._exit: no
atexit handler, no finally, and on a timeout a SIGKILL. A LocalCluster's worker processes do die
with their parent (distributed watches the parent's pipe), but their scratch directories stay. So
the first process that starts a cluster also starts this janitor: a small process that learns the
pids of its children and a temporary directory, waits for its stdin to close (which happens when
the parent ends, whatever the cause), then stops any child still alive and deletes the directory.

Run as a script (not -m) so that it needs neither this repository on sys.path nor anything but
the standard library and psutil, which every environment with distributed has.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile

GRACE_SECONDS = 5


class Janitor:
    """The parent's handle: a temporary directory, and the janitor process that will remove it."""

    def __init__(self, prefix: str = "dask-bench-"):
        self.directory = tempfile.mkdtemp(prefix=prefix)
        self._process = subprocess.Popen(
            # -I: not this file's directory on sys.path, where dask_bench's modules would shadow the
            # standard library's (a module named like one the janitor imports would crash it)
            [sys.executable, "-I", os.path.abspath(__file__), self.directory],
            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C to the benchmark must not stop its janitor
        )

    @property
    def pid(self) -> int:
        return self._process.pid

    def watch_children(self) -> None:
        """Hand every current child process (workers, pools) to the janitor."""
        import psutil

        lines = [f"{p.pid} {p.create_time()!r}\n" for p in psutil.Process().children(recursive=True)
                 if p.pid != self._process.pid]
        self._process.stdin.write("".join(lines).encode())
        self._process.stdin.flush()

    def release(self) -> None:
        """Let the janitor do its sweep now, without waiting for it: some children (the
        multiprocessing resource tracker) only exit after this process has."""
        if self._process.stdin and not self._process.stdin.closed:
            self._process.stdin.close()


def _sweep(directory: str, watched: list[tuple[int, float]]) -> None:
    import psutil

    alive = []
    for pid, created in watched:
        try:
            proc = psutil.Process(pid)
            if proc.create_time() == created:  # not a new process that reused the pid
                alive.append(proc)
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(alive, timeout=GRACE_SECONDS)
    for proc in alive:
        try:
            proc.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(alive, timeout=3)
    for proc in alive:
        try:
            proc.kill()
        except psutil.Error:
            pass
    shutil.rmtree(directory, ignore_errors=True)


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    directory, watched = argv[1], []
    for line in sys.stdin:  # ends when the parent closes the pipe or dies
        pid, created = line.split()
        watched.append((int(pid), float(created)))
    _sweep(directory, watched)


if __name__ == "__main__":
    main(sys.argv)
