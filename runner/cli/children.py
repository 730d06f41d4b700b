"""Processes a CLI command starts stop when the command gets SIGTERM or SIGINT.

Python's default SIGTERM ends the process at once, without running `finally` clauses, so a child
started with Popen would be orphaned and keep serving. Inside `stop_on_signals`, SIGTERM raises
SystemExit instead, and the clauses that stop children run.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
from collections.abc import Iterator
from types import FrameType

from runner.cli.context import out


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGTERM becomes SystemExit(143) and SIGINT KeyboardInterrupt for the block."""

    def _exit(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    def _interrupt(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _exit)
    # Python leaves SIGINT ignored when the process started with it ignored (a parent that runs
    # its children in the background does that): the command must stop on SIGINT all the same.
    previous_int = signal.signal(signal.SIGINT, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)


def run_until_signalled(running: contextlib.AbstractContextManager[object], started: str) -> None:
    """Enter `running` (a server or loop in a thread of its own), say `started`, and stay until
    SIGINT or SIGTERM. The signals are blocked before the threads start (they inherit the mask)
    and taken by `sigwait`: no handler runs, so none can wait forever on a lock this thread holds."""
    signals = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        with running:
            out.print(started)
            signal.sigwait(signals)
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)


def stop(proc: subprocess.Popen[bytes], *, timeout: float = 45) -> None:
    """SIGTERM, then SIGKILL if the child has not exited within `timeout` seconds."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
