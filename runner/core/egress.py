"""The egress gate: the browser's only way out. Every task's browser context uses it as its HTTP
proxy, so every connection a page makes (navigations, each hop of a redirect, subresources, iframes,
fetch/XHR, WebSockets, workers) is judged by the destination policy before it is opened, and is
then opened to the address that was judged: a DNS answer that changes in between is not used.

    https, wss, ws   CONNECT host:port -> judged -> `200` and a byte tunnel (TLS stays end to end)
    http             absolute-form requests, each judged, forwarded in origin form; one upstream
                     connection per client connection, replaced when the host changes

A refused host gets `403` (plain http: the page shows the reason; https: the browser shows
ERR_TUNNEL_CONNECTION_FAILED). Decisions are cached per host for `ttl` seconds, so a page costs one
resolution per host, not one per request. Chromium sends loopback through a context's proxy too
(Playwright adds `<-loopback>` to the bypass list).

Why a proxy and not Playwright request routing: routing sees only the first request of a redirect
chain (Playwright continues every later hop itself), so `302 Location: http://169.254.169.254/`
would get through; routing also turns the HTTP cache off and costs a round trip to Python per
request.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from runner.core.destinations import AddressGuard, Unresolvable
from runner.core.errors import UnsafeDestination

log = logging.getLogger(__name__)

DECISION_TTL_SECONDS = 30.0
CONNECT_TIMEOUT_SECONDS = 10.0
HEAD_LIMIT_BYTES = 64 * 1024
MAX_CACHED_HOSTS = 4096
_CHUNK = 64 * 1024
# Hop-by-hop headers meant for the proxy, not for the server.
_PROXY_HEADERS = {"proxy-connection", "proxy-authorization", "keep-alive"}


@dataclass(frozen=True)
class _Decision:
    expires: float
    address: str | None = None
    refused: str | None = None  # the policy's message; the address is None


@dataclass(frozen=True)
class _Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name), None)


class EgressGate:
    """A forward proxy on 127.0.0.1 (an ephemeral port) that opens only what the policy allows."""

    def __init__(
        self,
        policy: AddressGuard,
        *,
        ttl: float = DECISION_TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._policy = policy.for_use("requested", UnsafeDestination)
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, _Decision] = {}
        self._pending: dict[str, asyncio.Future[_Decision]] = {}
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.refusals = 0  # connections and requests refused since start (for tests and logs)
        self.lookups = 0  # decisions made (cache misses)

    @property
    def server(self) -> str:
        """The proxy URL to give a browser context (`proxy={"server": ...}`)."""
        if self._server is None:
            raise RuntimeError("the egress gate is not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    async def start(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0, limit=HEAD_LIMIT_BYTES)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        await server.wait_closed()

    async def decide(self, host: str, port: int) -> str:
        """The address to open for `host`; UnsafeDestination if refused or unresolvable."""
        key = host.lower().strip("[]").rstrip(".")
        decision = self._cache.get(key)
        if decision is None or decision.expires <= self._clock():
            pending = self._pending.get(key)
            if pending is None:
                pending = asyncio.ensure_future(asyncio.to_thread(self._judge, host, port))
                self._pending[key] = pending
                pending.add_done_callback(lambda _: self._pending.pop(key, None))
            decision = await asyncio.shield(pending)
            if len(self._cache) >= MAX_CACHED_HOSTS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = decision
        if decision.address is None:
            raise UnsafeDestination(decision.refused or "refused", host=host)
        return decision.address

    def _judge(self, host: str, port: int) -> _Decision:
        """One decision (in a thread: the resolver blocks); refusals are logged here, once per TTL."""
        self.lookups += 1
        expires = self._clock() + self._ttl
        try:
            return _Decision(expires, address=self._policy.address_for(host, port))
        except UnsafeDestination as exc:
            log.warning("browser request refused", extra={"host": host, "reason": exc.details.get("reason")})
            return _Decision(expires, refused=exc.message)
        except Unresolvable:
            return _Decision(expires, refused=f"The host {host!r} does not resolve.")

    # -- connections ----------------------------------------------------------------------------

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        upstream: _Upstream | None = None
        try:
            while (request := await _read_request(reader, writer)) is not None:
                if request.method == "CONNECT":
                    await self._tunnel(request, reader, writer)
                    return
                upstream = await self._forward(request, reader, writer, upstream)
                if upstream is None:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, TimeoutError):
            pass
        finally:
            if upstream is not None:
                await upstream.close()
            writer.close()
            self._connections.discard(task)

    async def _open(
        self, host: str, port: int, writer: asyncio.StreamWriter
    ) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """A connection to the judged address of host:port, or None after answering 403/502."""
        try:
            address = await self.decide(host, port)
        except UnsafeDestination as exc:
            self.refusals += 1
            await _answer(writer, 403, f"sopwright refused this request. {exc.message}")
            return None
        try:
            return await asyncio.wait_for(asyncio.open_connection(address, port), CONNECT_TIMEOUT_SECONDS)
        except (OSError, TimeoutError):
            await _answer(writer, 502, f"sopwright could not connect to {host}:{port}.")
            return None

    async def _tunnel(
        self, request: _Request, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        host, _, port = request.target.rpartition(":")
        if not host or not port.isdigit():
            await _answer(writer, 400, "CONNECT needs host:port.")
            return
        opened = await self._open(host, int(port), writer)
        if opened is None:
            return
        up_reader, up_writer = opened
        writer.write(b"HTTP/1.1 200 Connection Established\r\n\r\n")
        try:
            await writer.drain()
            await asyncio.gather(_pump(reader, up_writer), _pump(up_reader, writer))
        finally:
            up_writer.close()

    async def _forward(
        self,
        request: _Request,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        upstream: _Upstream | None,
    ) -> _Upstream | None:
        """Send one plain-http request upstream; the upstream to keep, or None to end the connection."""
        url = urlsplit(request.target)
        if url.scheme != "http" or not url.hostname:
            await _answer(writer, 400, "The egress gate forwards absolute http:// requests only.")
            return None
        if request.header("transfer-encoding") is not None:
            # Browsers send HTTP/1.1 request bodies with a Content-Length (streamed uploads need h2).
            await _answer(writer, 501, "The egress gate does not forward chunked request bodies.")
            return None
        port = url.port or 80
        key = (url.hostname.lower(), port)
        if upstream is None or upstream.key != key or upstream.closed:
            if upstream is not None:
                await upstream.close()
                upstream = None
            opened = await self._open(url.hostname, port, writer)
            if opened is None:
                return None
            upstream = _Upstream(key, *opened, writer)
        else:
            # Still the same host: judged again (a cached decision), so a refusal made since holds.
            try:
                await self.decide(url.hostname, port)
            except UnsafeDestination as exc:
                self.refusals += 1
                await _answer(writer, 403, f"sopwright refused this request. {exc.message}")
                return None
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        lines = [f"{request.method} {path} {request.version}"]
        lines += [f"{k}: {v}" for k, v in request.headers if k.lower() not in _PROXY_HEADERS]
        upstream.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        length = int(request.header("content-length") or 0)
        while length > 0:
            chunk = await reader.read(min(length, _CHUNK))
            if not chunk:
                raise asyncio.IncompleteReadError(b"", length)
            upstream.writer.write(chunk)
            length -= len(chunk)
        await upstream.writer.drain()
        return upstream


class _Upstream:
    """The server connection of a plain-http client connection; its response bytes are copied to
    the client as they come (the client knows where each response ends)."""

    def __init__(
        self,
        key: tuple[str, int],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        client: asyncio.StreamWriter,
    ) -> None:
        self.key = key
        self.writer = writer
        self._pump = asyncio.ensure_future(self._copy(reader, client))

    @property
    def closed(self) -> bool:
        return self._pump.done()

    async def _copy(self, reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while chunk := await reader.read(_CHUNK):
                client.write(chunk)
                await client.drain()
        # The server closed: so does the client's connection (the browser opens a new one).
        client.close()

    async def close(self) -> None:
        self._pump.cancel()
        with contextlib.suppress(asyncio.CancelledError, ConnectionError):
            await self._pump
        self.writer.close()


async def _read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> _Request | None:
    """The next request head, or None at the end of the connection (or after answering a bad one)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    except asyncio.LimitOverrunError:
        await _answer(writer, 431, "Request head too large.")
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        await _answer(writer, 400, "Malformed request line.")
        return None
    headers = []
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers.append((name.strip(), value.strip()))
    return _Request(parts[0].upper(), parts[1], parts[2], headers)


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy one direction of a tunnel until its end, then half-close the other side."""
    with contextlib.suppress(ConnectionError):
        while chunk := await reader.read(_CHUNK):
            writer.write(chunk)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def _answer(writer: asyncio.StreamWriter, status: int, message: str) -> None:
    reasons = {400: "Bad Request", 403: "Forbidden", 431: "Request Header Fields Too Large"}
    reasons |= {501: "Not Implemented", 502: "Bad Gateway"}
    body = (message + "\n").encode()
    writer.write(
        f"HTTP/1.1 {status} {reasons[status]}\r\ncontent-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n".encode()
        + body
    )
    with contextlib.suppress(ConnectionError):
        await writer.drain()
