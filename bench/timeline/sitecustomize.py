"""Time every Playwright call a process makes, for `bench/timeline.py` (bench tooling only).

Put this directory first on PYTHONPATH and set `PW_TIMING=1`: every Python process started so
(the benchmarks' workers inherit the environment) writes one line per call of Playwright's driver
connection to its stderr, when the call returns:

    PWT <perf_counter at the return> <milliseconds> <object type>.<method> [selector | CDP method]

and one line per full garbage collection (generation 2): `PWG <perf_counter> <milliseconds>`.

It wraps `playwright._impl.connection.Connection.send_message_to_server`, a private function: if a
Playwright release renames it, the process says so on stderr once and runs untimed.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any

if os.environ.get("PW_TIMING"):
    try:
        from playwright._impl import connection as _connection

        _send = _connection.Connection.send_message_to_server

        def _timed(self: Any, owner: Any, method: str, params: Any, options: Any) -> Any:
            pending = _send(self, owner, method, params, options)
            started = time.perf_counter()
            label = f"{owner._type}.{method}"
            if isinstance(params, dict):
                detail = params.get("selector") or params.get("method")
                if detail:
                    label += " " + " ".join(str(detail).split())[:80]

            async def waited() -> Any:
                try:
                    return await pending
                finally:
                    now = time.perf_counter()
                    sys.stderr.write(f"PWT {now:.4f} {(now - started) * 1000:.1f} {label}\n")

            return waited()

        _connection.Connection.send_message_to_server = _timed  # type: ignore[method-assign,assignment]
    except Exception as exc:  # a renamed private function: run untimed
        sys.stderr.write(f"PWT: Playwright calls are not timed ({exc})\n")

    import gc

    _collecting: dict[str, float] = {}

    def _gc_timed(phase: str, info: dict[str, Any]) -> None:
        # One line per garbage collection of generation 2 (the full ones, which pause longest).
        if info.get("generation") != 2:
            return
        if phase == "start":
            _collecting["at"] = time.perf_counter()
        elif "at" in _collecting:
            now = time.perf_counter()
            sys.stderr.write(f"PWG {now:.4f} {(now - _collecting.pop('at')) * 1000:.1f} gc.generation2\n")

    gc.callbacks.append(_gc_timed)
