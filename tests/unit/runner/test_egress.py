"""The egress gate without a browser: raw HTTP clients through it, to a server on 127.0.0.1 (allowed)
and one on 127.0.0.2 (refused, and counting every connection it gets)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from runner.core.destinations import AddressGuard
from runner.core.egress import DECISION_TTL_SECONDS, EgressGate

DNS = {"portal.test": ["127.0.0.1"], "evil.test": ["127.0.0.2"], "mixed.test": ["127.0.0.1", "10.0.0.1"]}


def resolver(host: str, port: int) -> list[str]:
    if host not in DNS:
        raise OSError("does not resolve")
    return DNS[host]


@dataclass
class World:
    gate: EgressGate
    port: int  # the allowed server's port (127.0.0.1)
    internal_port: int  # the refused server's port (127.0.0.2)
    now: list[float]
    requests: list[tuple[str, dict[str, str], int]] = field(default_factory=list)  # line, headers, body
    internal_connections: int = 0
    writers: list[asyncio.StreamWriter] = field(default_factory=list)  # every connection, to close

    async def open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        host, port = self.gate.server.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        self.writers.append(writer)
        return reader, writer


def run(test: Callable[[World], Awaitable[None]]) -> None:
    """Run `test` with a started gate and both servers, on a loop of its own (off the main thread:
    pytest-playwright may own the main thread's loop)."""

    async def main() -> None:
        now = [0.0]
        gate = EgressGate(AddressGuard(["127.0.0.1"], resolver=resolver), clock=lambda: now[0])
        world = World(gate, 0, 0, now)

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            world.writers.append(writer)
            while True:
                try:
                    head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
                except asyncio.IncompleteReadError:
                    break
                line, *rest = head.rstrip("\r\n").split("\r\n")
                headers = {k.strip().lower(): v.strip() for k, _, v in (h.partition(":") for h in rest)}
                body = await reader.readexactly(int(headers.get("content-length", 0)))
                world.requests.append((line, headers, len(body)))
                reply = line.split(" ")[1].encode()
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: %d\r\n\r\n%s" % (len(reply), reply))
                await writer.drain()
            writer.close()

        async def internal(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            world.internal_connections += 1
            world.writers.append(writer)
            writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 6\r\n\r\nsecret")
            writer.close()

        allowed = await asyncio.start_server(serve, "127.0.0.1", 0)
        refused = await asyncio.start_server(internal, "127.0.0.2", 0)
        world.port = allowed.sockets[0].getsockname()[1]
        world.internal_port = refused.sockets[0].getsockname()[1]
        await gate.start()
        try:
            await asyncio.wait_for(test(world), timeout=30)
        finally:
            await gate.stop()
            for writer in world.writers:
                writer.close()
            for server in (allowed, refused):
                server.close()
                await server.wait_closed()
            await asyncio.sleep(0)  # let the transports finish closing

    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, main()).result(timeout=60)


async def exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: str, body: bytes = b""
) -> tuple[int, str]:
    writer.write(request.encode() + body)
    await writer.drain()
    head = (await reader.readuntil(b"\r\n\r\n")).decode()
    length = next(int(h.split(":")[1]) for h in head.split("\r\n") if h.lower().startswith("content-length"))
    return int(head.split(" ")[1]), (await reader.readexactly(length)).decode()


def get(url: str, **headers: str) -> str:
    host = url.split("/")[2]
    extra = "".join(f"{k.replace('_', '-')}: {v}\r\n" for k, v in headers.items())
    return f"GET {url} HTTP/1.1\r\nhost: {host}\r\nproxy-connection: keep-alive\r\n{extra}\r\n"


def test_plain_http_goes_to_the_judged_address_in_origin_form() -> None:
    async def test(world: World) -> None:
        reader, writer = await world.open()
        # portal.test is known only to the policy's resolver: reaching it proves the gate connects
        # to the address it judged, not to a fresh lookup.
        status, body = await exchange(reader, writer, get(f"http://portal.test:{world.port}/acme/login?x=1"))
        assert (status, body) == (200, "/acme/login?x=1")
        [(line, headers, _)] = world.requests
        assert line == "GET /acme/login?x=1 HTTP/1.1"
        assert headers["host"] == f"portal.test:{world.port}" and "proxy-connection" not in headers
        writer.close()

    run(test)


def test_refused_hosts_get_403_and_no_connection_in_any_form() -> None:
    async def test(world: World) -> None:
        internal = world.internal_port
        for url in (
            f"http://127.0.0.2:{internal}/admin",
            f"http://evil.test:{internal}/",
            f"http://mixed.test:{world.port}/",  # one address inside is enough
            f"http://2130706434:{internal}/",  # 127.0.0.2, decimal
            f"http://[::ffff:127.0.0.2]:{internal}/",
            "http://169.254.169.254/latest/meta-data/",
        ):
            reader, writer = await world.open()
            status, body = await exchange(reader, writer, get(url))
            assert status == 403, url
            assert body.startswith("sopwright refused this request.") and "SOPWRIGHT_ALLOW_HOSTS" in body
            writer.close()
        reader, writer = await world.open()
        status, body = await exchange(reader, writer, f"CONNECT 127.0.0.2:{internal} HTTP/1.1\r\n\r\n")
        assert status == 403 and "loopback" in body
        reader, writer = await world.open()
        status, body = await exchange(reader, writer, get("http://nowhere.test/"))
        assert status == 403 and "does not resolve" in body
        assert world.internal_connections == 0 and world.gate.refusals == 8

    run(test)


def test_every_request_on_a_kept_connection_is_judged() -> None:
    async def test(world: World) -> None:
        reader, writer = await world.open()
        assert (await exchange(reader, writer, get(f"http://127.0.0.1:{world.port}/one")))[0] == 200
        assert (await exchange(reader, writer, get(f"http://127.0.0.1:{world.port}/two")))[0] == 200
        status, _ = await exchange(reader, writer, get(f"http://127.0.0.2:{world.internal_port}/three"))
        assert status == 403
        assert [r[0] for r in world.requests] == ["GET /one HTTP/1.1", "GET /two HTTP/1.1"]
        assert world.internal_connections == 0

    run(test)


def test_request_bodies_are_forwarded_whole() -> None:
    async def test(world: World) -> None:
        reader, writer = await world.open()
        body = b"x" * 300_000
        request = (
            f"POST http://127.0.0.1:{world.port}/upload HTTP/1.1\r\nhost: 127.0.0.1\r\n"
            f"content-type: application/octet-stream\r\ncontent-length: {len(body)}\r\n\r\n"
        )
        assert await exchange(reader, writer, request, body) == (200, "/upload")
        assert await exchange(reader, writer, get(f"http://127.0.0.1:{world.port}/after")) == (200, "/after")
        assert [(r[0], r[2]) for r in world.requests] == [
            ("POST /upload HTTP/1.1", 300_000),
            ("GET /after HTTP/1.1", 0),
        ]
        reader, writer = await world.open()
        chunked = f"POST http://127.0.0.1:{world.port}/c HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n"
        assert (await exchange(reader, writer, chunked))[0] == 501

    run(test)


def test_connect_tunnels_bytes_to_an_allowed_host() -> None:
    async def test(world: World) -> None:
        reader, writer = await world.open()
        writer.write(f"CONNECT portal.test:{world.port} HTTP/1.1\r\nhost: portal.test\r\n\r\n".encode())
        await writer.drain()
        assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 200")
        # Inside the tunnel, the bytes are the browser's own (TLS in real life): an origin-form GET.
        status, body = await exchange(reader, writer, "GET /tunnelled HTTP/1.1\r\nhost: portal.test\r\n\r\n")
        assert (status, body) == (200, "/tunnelled")

    run(test)


def test_decisions_are_cached_per_host_for_a_short_time() -> None:
    async def test(world: World) -> None:
        reader, writer = await world.open()
        for path in ("/a", "/b", "/c"):
            await exchange(reader, writer, get(f"http://portal.test:{world.port}{path}"))
        assert world.gate.lookups == 1
        world.now[0] += DECISION_TTL_SECONDS + 1
        await exchange(reader, writer, get(f"http://portal.test:{world.port}/d"))
        assert world.gate.lookups == 2
        # Many requests for one new host at once: one lookup.
        answers = await asyncio.gather(*(world.gate.decide("PORTAL.test.", world.port) for _ in range(20)))
        assert set(answers) == {"127.0.0.1"} and world.gate.lookups == 2

    run(test)


def test_stop_ends_open_connections() -> None:
    async def test(world: World) -> None:
        reader, writer = await world.open()
        await exchange(reader, writer, get(f"http://127.0.0.1:{world.port}/open"))
        await world.gate.stop()
        assert await reader.read() == b""  # the gate closed the connection
        await world.gate.start()  # `run` stops it again

    run(test)
