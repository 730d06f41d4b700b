"""The chaos run's workers: `sopwright worker` processes in slots, killed and restarted; and the
environment every process of such a fleet (`serve --no-worker`, the workers) runs with."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from harness import PY, env_for


def fleet_env(work: Path, database_url: str, *, lease_seconds: float = 5.0, **extra: str) -> dict[str, str]:
    """The environment of a fleet's processes on `database_url`: JSON logs at WARNING (the chaos
    report scans them for errors), no Playwright traces, fast polls, a short lease with a reaper
    every second (a SIGKILLed worker's task is back within seconds), a 5 s grace at SIGTERM;
    `extra` adds or overrides SOPWRIGHT_* variables."""
    return env_for(
        work,
        database_url,
        SOPWRIGHT_LOG_FORMAT="json",
        SOPWRIGHT_LOG_LEVEL="WARNING",
        SOPWRIGHT_TRACE="off",
        SOPWRIGHT_POLL_SCALE="0.001",
        SOPWRIGHT_LEASE_SECONDS=str(lease_seconds),
        SOPWRIGHT_REAP_INTERVAL="1",
        SOPWRIGHT_GRACE_SECONDS="5",
        **extra,
    )


class Fleet:
    """`sopwright worker` processes in slots; each in its own process group, so that a SIGKILL to
    the group takes its browser down with it, as a crashed machine or container would."""

    def __init__(self, size: int, concurrency: int, env: dict[str, str], work: Path) -> None:
        self._concurrency = concurrency
        self._env = env
        self._work = work
        self._procs: list[subprocess.Popen[bytes] | None] = [None] * size
        self._starts = 0
        self.logs: list[Path] = []

    def start(self, slot: int) -> None:
        self._starts += 1
        log = self._work / f"worker-{slot}-{self._starts}.log"
        self.logs.append(log)
        command = [PY, "-m", "runner.cli.main", "worker", "--concurrency", str(self._concurrency)]
        with log.open("w") as sink:
            self._procs[slot] = subprocess.Popen(
                command, env=self._env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
            )

    def start_all(self) -> None:
        for slot in range(len(self._procs)):
            self.start(slot)

    def kill(self, slot: int) -> None:
        """SIGKILL the slot's worker and its browser, then start a new worker in the slot."""
        proc = self._procs[slot]
        if proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        self.start(slot)

    def slot_of(self, pid: int) -> int | None:
        return next((i for i, p in enumerate(self._procs) if p is not None and p.pid == pid), None)

    def stop_all(self) -> None:
        """SIGTERM (a clean stop), then SIGKILL to whatever is left of each group."""
        live = [p for p in self._procs if p is not None]
        for proc in live:
            proc.terminate()
        for proc in live:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=45)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
