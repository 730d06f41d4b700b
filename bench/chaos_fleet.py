"""The chaos run's workers: `sopwright worker` processes in slots, killed and restarted."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from pathlib import Path

from harness import PY


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
