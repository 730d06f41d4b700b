"""Every process a command starts stops when the command gets SIGTERM or SIGINT."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest

from tests.support.ports import free_port

SOPWRIGHT = [sys.executable, "-m", "runner.cli.main"]
SECONDS = 120  # generous: a loaded machine starts Python and Chromium slowly


def _wait(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SECONDS
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.2)


def _descendants(proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
    try:
        return psutil.Process(proc.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []


def _running(cmdline_part: str, procs: list[psutil.Process]) -> bool:
    for child in procs:
        try:
            if any(cmdline_part in part for part in child.cmdline()):
                return True
        except psutil.NoSuchProcess:
            continue
    return False


def _stop_and_check(proc: subprocess.Popen[bytes], signum: int) -> None:
    children = _descendants(proc)
    assert children, "the command started no process"
    try:
        proc.send_signal(signum)
        proc.wait(timeout=SECONDS)
        _gone, alive = psutil.wait_procs(children, timeout=SECONDS)
        assert not alive, f"left running after {signal.Signals(signum).name}: {[c.pid for c in alive]}"
    finally:
        for child in children:  # never leak them into the rest of the run, whatever failed
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_portal_stops_its_server(signum: int, tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([*SOPWRIGHT, "portal", "--port", str(port)], env=dict(os.environ))
    try:
        _wait(lambda: _running("mock_portal", _descendants(proc)), "the mock portal")
        _stop_and_check(proc, signum)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_demo_stops_its_portal_and_api_on_sigterm(tmp_path: Path) -> None:
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    proc = subprocess.Popen(
        [*SOPWRIGHT, "demo", "--no-keep"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait(lambda: _running("serve", _descendants(proc)), "the demo's API")
        _stop_and_check(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
