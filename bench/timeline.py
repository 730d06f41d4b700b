"""Where a worker's wall time goes, call by call: a report of the Playwright calls it timed.

    PW_TIMING=1 PYTHONPATH=bench/timeline BENCH_KEEP=1 \\
        .venv/bin/python bench/overhead.py --claims 10 --latency-ms 0 --no-variant
    .venv/bin/python bench/timeline.py /tmp/sopwright-bench-*/worker-*.log [--cycle-start 'Frame.goto']

`bench/timeline/sitecustomize.py` has every process started with that PYTHONPATH write a line per
Playwright call (its end time, its duration, what it was); `BENCH_KEEP=1` keeps the worker's log.
This prints, per kind of call, the milliseconds and calls per cycle, and per cycle (a task: from
one call matching `--cycle-start` followed by a wait for a screen to the next such call) the wall
time, the part spent inside Playwright calls (their union: calls may overlap) and the part outside
(the worker's Python and database work). The first two cycles (the warm-up and the first task of
the timed window) are left out of the sums. Figures of one run on an idle machine only: say the
load average beside them.
"""

from __future__ import annotations

import argparse
import itertools
import re
import statistics
from collections import defaultdict
from pathlib import Path

LINE = re.compile(r"^PWT (\d+\.\d+) (\d+\.\d+) (\S+)(?: (.*))?$")
GROUPED = {"Frame.fill", "Frame.waitForSelector", "Frame.queryCount", "Frame.innerText", "Frame.selectOption"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", type=Path, help="a worker's log (its stderr)")
    parser.add_argument("--cycle-start", default="Frame.goto", help="the call a cycle starts with")
    args = parser.parse_args()
    calls: list[tuple[float, float, str, str]] = []  # start, end (s), kind, detail
    for line in args.log.read_text(errors="replace").splitlines():
        found = LINE.match(line)
        if found:
            end, ms = float(found.group(1)), float(found.group(2))
            calls.append((end - ms / 1000, end, found.group(3), found.group(4) or ""))
    calls.sort()
    starts = [
        i
        for i, call in enumerate(calls[:-1])
        if call[2] == args.cycle_start and calls[i + 1][2] in ("Frame.waitForSelector", "Frame.queryCount")
    ]
    cycles = list(itertools.pairwise(starts))[2:]
    if not cycles:
        raise SystemExit(f"fewer than three cycles found in {args.log} (is PW_TIMING set for the worker?)")
    per_kind: dict[str, list[float]] = defaultdict(list)
    inside, wall = [], []
    for first, last in cycles:
        window = calls[first:last]
        for _start, _end, kind, detail in window:
            key = kind if kind in GROUPED or not detail else f"{kind} {detail.split()[0]}"
            per_kind[key].append((_end - _start) * 1000)
        wall.append((calls[last][0] - calls[first][0]) * 1000)
        inside.append(_union_ms([(c[0], c[1]) for c in window]))
    n = len(cycles)
    outside = statistics.median(w - i for w, i in zip(wall, inside, strict=True))
    print(
        f"{n} cycles; per cycle (median): wall {statistics.median(wall):.1f} ms, inside Playwright "
        f"calls {statistics.median(inside):.1f}, outside {outside:.1f}"
    )
    print(f"{'ms per cycle':>12}  {'calls':>5}  kind")
    for key, values in sorted(per_kind.items(), key=lambda item: -sum(item[1])):
        print(f"{sum(values) / n:12.1f}  {len(values) / n:5.1f}  {key}")


def _union_ms(spans: list[tuple[float, float]]) -> float:
    total, current = 0.0, None
    for start, end in sorted(spans):
        if current is None or start > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = [start, end]
        else:
            current[1] = max(current[1], end)
    if current is not None:
        total += current[1] - current[0]
    return total * 1000


if __name__ == "__main__":
    main()
