"""CPU per `POST /tasks` in process: the API's create path without a server, a loader or a network.

    .venv/bin/python bench/create_cpu.py [--creates 600] [--concurrency 16] [--rounds 3]
        [--against TREE] [--database-url URL] [--profile out.txt] [--idempotency-keys]

Builds the wired core on a fresh SQLite database (or a fresh database on the PostgreSQL server of
`--database-url`) with an account like `bench/api.py`'s (defaults, one Acme login), then sends
`--creates` claim tasks (bench/api.py's body) straight into the ASGI app, `--concurrency` at once,
and divides the process's CPU time (every thread: the event loop and the threadpool) by the number
of creates. Server-side only: no HTTP parsing, no client. On a shared machine CPU time is steadier
than requests per second, though a loaded machine still inflates it (caches, hyper-threads).

`--against TREE` compares with another source tree (e.g. `git archive main | tar -x -C /tmp/base`):
each round runs this tree and then that one, each in its own process with the same arguments,
alternating which goes first, and prints the load average beside each figure. `--profile` writes
a cProfile of this tree's creates (sorted by cumulative time) to a file: the event loop's thread
only (the threadpool's work shows as waits there); for every thread, run one side under py-spy:

    PYTHONPATH=.:bench py-spy record --gil --format raw -o out.txt -- \
        .venv/bin/python bench/create_cpu.py --child --creates 3000
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from claims import claims
from harness import SECRET_KEY, database, settings_for

import runner
from runner.api.app import create_app
from runner.core.system import System, build

ROOT = Path(__file__).resolve().parents[1]
Message = MutableMapping[str, Any]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--creates", type=int, default=600)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--against", type=Path, help="another source tree to compare with")
    parser.add_argument("--database-url", help="a PostgreSQL server to make a fresh database on")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the creates here")
    parser.add_argument(
        "--idempotency-keys", action="store_true", help="every create sends an Idempotency-Key of its own"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_measure(args)))
        return
    sides = {"this tree": ROOT} | ({"against": args.against.resolve()} if args.against else {})
    figures: dict[str, list[float]] = {name: [] for name in sides}
    print(f"{args.creates} creates a round, {args.concurrency} at once; ms of CPU per create")
    for round_ in range(args.rounds):
        order = list(sides.items())
        if round_ % 2:
            order.reverse()
        for name, tree in order:
            before = _load_average()
            result = _child(tree, args)
            figures[name].append(result["cpu_ms"])
            print(
                f"round {round_ + 1}  {name:9}  {result['cpu_ms']:6.2f} ms CPU  "
                f"{result['wall_ms']:6.2f} ms wall  load {before} -> {_load_average()}"
            )
    for name, values in figures.items():
        print(f"{name:9}  median {statistics.median(values):.2f} ms  (min {min(values):.2f})")
    if args.against:
        ours, theirs = (statistics.median(figures[n]) for n in sides)
        print(f"this tree / against: {ours / theirs:.2f}")


def _load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def _child(tree: Path, args: argparse.Namespace) -> dict[str, float]:
    """One side's measurement, in a process whose `runner` and `sops` come from `tree`."""
    command = [sys.executable, str(Path(__file__).resolve()), "--child"]
    command += ["--creates", str(args.creates), "--concurrency", str(args.concurrency)]
    if args.database_url:
        command += ["--database-url", args.database_url]
    if args.idempotency_keys:
        command.append("--idempotency-keys")
    if args.profile and tree == ROOT:
        command += ["--profile", str(args.profile)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tree), str(ROOT / "bench")])}
    done = subprocess.run(command, env=env, cwd=tree, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"the measurement in {tree} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _measure(args: argparse.Namespace) -> dict[str, float]:
    assert Path(runner.__file__).resolve().is_relative_to(Path.cwd().resolve()), runner.__file__
    work = Path(tempfile.mkdtemp(prefix="sopwright-create-cpu-"))
    os.environ["SOPWRIGHT_SECRET_KEY"] = SECRET_KEY
    with database(args.database_url) as url:
        system = build(settings_for(work, url))
        try:
            api_key = _account(system)
            app = create_app(system)
            body = json.dumps({"type": "submit_claim", "data": claims(1)[0].task_data()}).encode()
            headers = [
                (b"host", b"bench"),
                (b"authorization", f"Bearer {api_key}".encode()),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            keyed = args.idempotency_keys
            asyncio.run(_load(app, headers, body, 50, args.concurrency, keyed))  # warm-up
            profile = cProfile.Profile() if args.profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profile is not None:
                profile.enable()
            asyncio.run(_load(app, headers, body, args.creates, args.concurrency, keyed))
            if profile is not None:
                profile.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if profile is not None:
                with args.profile.open("w") as out:
                    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(80)
        finally:
            system.close()
            shutil.rmtree(work, ignore_errors=True)
    return {"cpu_ms": cpu * 1000 / args.creates, "wall_ms": wall * 1000 / args.creates}


def _account(system: System) -> str:
    created = system.accounts.create("Bench Clinic")
    system.accounts.set_defaults(
        created.account.id,
        {"billing_npi": "2000000002", "provider_npi": "2000000002", "tax_id": "123456789"},
    )
    system.credentials.add(
        created.account.id,
        payer="acme",
        url="http://127.0.0.1:9/acme",
        username="bench",
        password="not-used",
        totp_secret=None,
        rate_per_minute=100_000,
    )
    return str(created.api_key)


async def _load(
    app: Callable[..., Awaitable[None]],
    headers: list[tuple[bytes, bytes]],
    body: bytes,
    n: int,
    at_once: int,
    keyed: bool = False,
) -> None:
    left = iter(range(n))

    async def one_connection() -> None:
        for _ in left:
            key = [(b"idempotency-key", uuid.uuid4().hex.encode())] if keyed else []
            await _post(app, headers + key, body)

    await asyncio.gather(*(one_connection() for _ in range(at_once)))


async def _post(app: Callable[..., Awaitable[None]], headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/tasks",
        "raw_path": b"/tasks",
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
        "state": {},
    }
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> Message:
        nonlocal sent
        if sent:
            await asyncio.Event().wait()  # no disconnect while the request runs
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    if status != 200 or json.loads(b"".join(chunks))["status"] != "pending":
        raise RuntimeError(f"POST /tasks answered {status}: {b''.join(chunks)[:300]!r}")


if __name__ == "__main__":
    main()
