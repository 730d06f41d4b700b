"""API: `POST /tasks` under load, against a bare FastAPI route in the same kind of server process.

    .venv/bin/python bench/api.py [--seconds 10] [--connections 16] [--loader wrk|httpx] [--idempotency-keys]

Both servers are one uvicorn process with one worker on 127.0.0.1: `sopwright serve --no-worker`
(its webhook dispatcher thread idles beside it) and `uvicorn bare_app:app` (bench/bare_app.py:
validates the same JSON body, stores nothing). The load is a claim task (`submit_claim`, complete
data: parsed, checked, SOP rendered, stored `pending`). The loader is `wrk` when installed
(Debian: `apt-get install wrk`), else a bounded asyncio httpx loop; it runs on the same 2 cores,
so both sides lose the same share to it. Each side gets 2 s of warm-up, then `--seconds` of load.
`--idempotency-keys`: every request sends an `Idempotency-Key` of its own, as a client following
the README does (the bare route ignores it). Target: sopwright / bare >= 0.25 in requests per
second. A third row runs `serve` again with
`SOPWRIGHT_API_KEY_CACHE_SECONDS=0` (every request reads its key from the database; the default
takes a key that passed its check again for 2 s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx
from claims import claims
from harness import PY, ROOT, env_for, free_port, percentile, process, show, stack


@dataclass
class Load:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument(
        "--loader", choices=["wrk", "httpx"], default="wrk" if shutil.which("wrk") else "httpx"
    )
    parser.add_argument("--idempotency-keys", action="store_true", help="a key of its own per request")
    args = parser.parse_args()
    body = json.dumps({"type": "submit_claim", "data": claims(1)[0].task_data()})
    results = {}
    with stack(latency_ms=0, worker=False) as s:
        headers = {"Authorization": f"Bearer {s.account.api_key}", "Content-Type": "application/json"}
        check = httpx.post(f"{s.api_url}/tasks", content=body, headers=headers)
        if check.status_code != 200 or check.json()["status"] != "pending":
            raise RuntimeError(f"POST /tasks did not take the sample claim: {check.text[:300]}")
        results["sopwright POST /tasks"] = _measure(args, f"{s.api_url}/tasks", body, headers)
        # The same server with its verified-key cache off: the key read from the database on
        # every request (what revocation that takes effect everywhere at once costs).
        port = free_port()
        command = [PY, "-m", "runner.cli.main", "serve", "--no-worker", "--port", str(port)]
        uncached = env_for(s.work, s.database_url, SOPWRIGHT_API_KEY_CACHE_SECONDS="0")
        url = f"http://127.0.0.1:{port}"
        with process(
            "API, keys uncached", command, uncached, s.work / "serve-uncached.log", f"{url}/healthz"
        ):
            results["sopwright, SOPWRIGHT_API_KEY_CACHE_SECONDS=0"] = _measure(
                args, f"{url}/tasks", body, headers
            )
        port = free_port()
        command = [PY, "-m", "uvicorn", "bare_app:app", "--app-dir", str(ROOT / "bench")]
        command += ["--port", str(port), "--log-level", "warning"]
        url = f"http://127.0.0.1:{port}"
        with process("bare app", command, env_for(s.work), s.work / "bare.log", f"{url}/healthz"):
            results["bare FastAPI POST /tasks"] = _measure(args, f"{url}/tasks", body, headers)
    bare = results["bare FastAPI POST /tasks"]
    rows = [
        (
            name,
            f"{r.rps:.0f}",
            f"{r.p50_ms:.1f}",
            f"{r.p99_ms:.1f}",
            r.requests,
            r.errors,
            f"{r.rps / bare.rps:.2f}",
        )
        for name, r in results.items()
    ]
    show(
        f"API: {args.connections} connections, {args.seconds:g} s, loader {args.loader}"
        + (", an Idempotency-Key per request" if args.idempotency_keys else ""),
        ["server", "requests/s", "p50 ms", "p99 ms", "requests", "errors", "ratio"],
        rows,
        ["target: sopwright / bare >= 0.25 (requests/s)"],
    )


def _measure(args: argparse.Namespace, url: str, body: str, headers: dict[str, str]) -> Load:
    keyed = args.idempotency_keys
    if args.loader == "wrk":
        _wrk(url, body, headers, 2, args.connections, keyed)
        return _wrk(url, body, headers, args.seconds, args.connections, keyed)
    asyncio.run(_httpx(url, body, headers, 2, args.connections, keyed))
    return asyncio.run(_httpx(url, body, headers, args.seconds, args.connections, keyed))


WRK_SCRIPT = """
wrk.method = "POST"
wrk.body = {body}
{headers}
"""
# Each request its own Idempotency-Key: the run's prefix and a count (wrk runs one thread, -t1).
WRK_KEYS = """
local sent = 0
request = function()
  sent = sent + 1
  wrk.headers["Idempotency-Key"] = "{prefix}-" .. sent
  return wrk.format()
end
"""


def _wrk(
    url: str, body: str, headers: dict[str, str], seconds: float, connections: int, keyed: bool = False
) -> Load:
    lines = "\n".join(f"wrk.headers[{json.dumps(k)}] = {json.dumps(v)}" for k, v in headers.items())
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(WRK_SCRIPT.format(body=json.dumps(body), headers=lines))
        if keyed:
            script.write(WRK_KEYS.replace("{prefix}", uuid.uuid4().hex))
    try:
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
        done = subprocess.run(
            [*command, "-s", script.name, url],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
            check=True,
        )
    finally:
        Path(script.name).unlink()
    out = done.stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    span = re.search(r"requests in ([\d.]+)(m?s)", out)
    assert span is not None
    elapsed = float(span.group(1)) * (60 if span.group(2) == "m" else 1)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    failed = int(errors.group(1)) if errors else 0
    failed += sum(int(x) for x in socket_errors.groups()) if socket_errors else 0
    return Load(requests, failed, elapsed, _wrk_ms(out, "50%"), _wrk_ms(out, "99%"))


def _wrk_ms(out: str, label: str) -> float:
    found = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
    assert found is not None, out
    value, unit = float(found.group(1)), found.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


async def _httpx(
    url: str, body: str, headers: dict[str, str], seconds: float, connections: int, keyed: bool = False
) -> Load:
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:
        start = time.perf_counter()
        stop_at = start + seconds

        async def loop() -> None:
            nonlocal errors
            for _ in range(1_000_000):  # bounded: time is the real stop
                if time.perf_counter() >= stop_at:
                    return
                sent = time.perf_counter()
                key = {"Idempotency-Key": uuid.uuid4().hex} if keyed else {}
                response = await client.post(url, content=body, headers=headers | key)
                latencies.append((time.perf_counter() - sent) * 1000)
                errors += response.status_code != 200

        await asyncio.gather(*(loop() for _ in range(connections)))
        elapsed = time.perf_counter() - start
    return Load(len(latencies), errors, elapsed, percentile(latencies, 50), percentile(latencies, 99))


if __name__ == "__main__":
    main()
