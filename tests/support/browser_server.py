"""A real Playwright browser server (`playwright run-server`) in a subprocess, for tests.

    with running_browser_server() as server:
        pool = BrowserPool(endpoints=[server.endpoint], executable=find_chromium())
        ...
        server.kill()      # SIGKILL the server and every browser it launched
        server.start()     # again, on the same port

`--unsafe` lets the client's launch options name the executable (there is no bundled Playwright
browser on the test machines, only the system Chromium).
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress

import psutil

START_TIMEOUT_SECONDS = 20.0
LISTENING = re.compile(r"Listening on (ws://\S+)")


class BrowserServer:
    def __init__(self) -> None:
        self.port = 0
        self.endpoint = ""
        self._process: subprocess.Popen[str] | None = None

    def start(self) -> str:
        """Start the server (on the port it had before, if any); return its endpoint."""
        assert self._process is None, "already running"
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "playwright",
                "run-server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--unsafe",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._process = process
        lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=_pump, args=(process, lines), name="browser-server-out", daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        seen: list[str] = []
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            seen.append(line)
            match = LISTENING.search(line)
            if match:
                self.endpoint = match.group(1)
                self.port = int(self.endpoint.rstrip("/").rsplit(":", 1)[1])
                return self.endpoint
            if process.poll() is not None and lines.empty():
                break
        self.kill()
        raise RuntimeError(f"playwright run-server did not start: {''.join(seen)[-2000:]!r}")

    def browsers(self) -> int:
        """Browser processes the server runs now (one per connected client)."""
        if self._process is None:
            return 0
        children = psutil.Process(self._process.pid).children(recursive=True)
        return sum(1 for child in children if _is_browser_main(child))

    def kill(self) -> None:
        """SIGKILL the server and everything it started (a crash, not a shutdown)."""
        process, self._process = self._process, None
        if process is None:
            return
        try:
            tree = [psutil.Process(process.pid), *psutil.Process(process.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            tree = []
        for member in tree:
            with suppress(psutil.NoSuchProcess):
                member.send_signal(signal.SIGKILL)
        psutil.wait_procs(tree, timeout=10)
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _pump(process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
    assert process.stdout is not None
    try:
        for line in process.stdout:
            lines.put(line)
    except ValueError:  # closed by kill()
        pass


def _is_browser_main(process: psutil.Process) -> bool:
    try:
        cmdline = process.cmdline()
    except psutil.Error:
        return False
    name = os.path.basename(cmdline[0]) if cmdline else ""
    return ("chrom" in name or "headless_shell" in name) and not any(
        arg.startswith("--type=") for arg in cmdline
    )


@contextmanager
def running_browser_server() -> Iterator[BrowserServer]:
    server = BrowserServer()
    server.start()
    try:
        yield server
    finally:
        server.kill()
