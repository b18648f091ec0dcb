"""The command-line frame every host tool shares: one kind of error, exit codes, option checks.

Exit status of every command: 0 done (for a verdict: nothing slower), 1 a counted benchmark slower
(or newly failing), 2 an error (bad input, set-up or measurement failed: one line on stderr, never a
traceback), 3 inconclusive (a verdict that could not tell; not a pass), 128 + N stopped by signal N.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import signal
import sys
from contextlib import contextmanager

EXIT_SLOWER, EXIT_ERROR, EXIT_INCONCLUSIVE = 1, 2, 3


class ToolError(Exception):
    """Bad input or a failed step: shown as one line, `<prog>: error: <message>`, exit 2."""


class Stopped(BaseException):
    """SIGINT or SIGTERM arrived; `signum` says which."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def signals_stop():
    """Within the block, SIGINT and SIGTERM raise Stopped (SIGTERM would otherwise end Python at once)."""
    def handler(signum, frame):
        raise Stopped(signum)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def write(path, text: str):
    """`text` written to `path`, its folder made first; the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def check_factor(factor: float) -> None:
    if not factor > 1:
        raise ToolError(f"FACTOR={factor} must be above 1 (e.g. 1.10: 10% slower)")


def refuse_unused(parser: argparse.ArgumentParser, args, used: set[str], mode: str) -> None:
    """Refuse an option given with `mode` (say --judge, which measures nothing) that it would ignore:
    every option whose value is not its default, except those named in `used` (dests)."""
    # argparse keeps its actions private; reading them is the one way to list the options generically
    unused = [max(action.option_strings, key=len) for action in parser._actions
              if action.option_strings and action.dest not in used | {"help"}
              and getattr(args, action.dest) != action.default]
    if unused:
        raise ToolError(f"{mode} measures nothing: {', '.join(unused)} would be ignored; leave "
                        f"{'it' if len(unused) == 1 else 'them'} out")


def command(prog: str):
    """A tool's main(argv) as its command `prog`, from a shell or a test alike: stopped cleanly by
    Ctrl-C or SIGTERM, a ToolError as one line (2), any unexpected failure an error (2), never a verdict."""
    return lambda main: functools.wraps(main)(lambda argv=None: guarded_main(argv, main, prog))


_running = False  # a command runs: a command it runs in turn (make history's ./compare of a pair) is nested


def guarded_main(argv, main, prog: str) -> int:
    """main(argv) with the frame of `command`. Nested in another command, only its ToolError is its
    exit status (2): a signal or an unexpected failure stops the command that runs it."""
    global _running
    outer, _running = not _running, True
    try:
        with signals_stop() if outer else contextlib.nullcontext():
            return main(argv)
    except ToolError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Stopped as stop:
        if not outer:
            raise
        print(f"{prog}: stopped ({stop})", file=sys.stderr)
        return 128 + stop.signum
    except Exception as exc:  # noqa: BLE001: the exit status must stay one the command documents
        if not outer:
            raise
        print(f"{prog}: error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]}", file=sys.stderr)
        return EXIT_ERROR
    finally:
        _running = not outer
