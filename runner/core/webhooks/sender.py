"""One POST to a webhook endpoint: SSRF-checked, pinned, 15 s timeout, no redirects, bounded read."""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import httpx

from runner.core.destinations import AddressGuard
from runner.core.errors import UnsafeDestination
from runner.core.webhooks.transport import PinnedTransport

log = logging.getLogger(__name__)

USER_AGENT = "sopwright-webhooks/1"
_READ_LIMIT = 1024  # bytes of the response body read at most (for the log's snippet)


@dataclass(frozen=True)
class PostResult:
    """What one HTTP POST of a webhook produced. `error` is set for everything but a 2xx."""

    status_code: int | None
    latency_ms: int
    error: str | None = None
    snippet: str | None = None
    retry_after: str | None = None
    refused: bool = False  # the SSRF guard refused the destination; nothing was sent

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def gone(self) -> bool:
        return self.status_code == 410


class Sender:
    """Sends POSTs, from any number of threads at once. One TLS context serves every https send:
    it is built at the first one (loading the CA bundle costs tens of ms), never for plain http."""

    def __init__(
        self,
        guard: AddressGuard,
        *,
        timeout: float = 15.0,
        ssl_context: ssl.SSLContext | None = None,
        tls: Callable[[], ssl.SSLContext] = ssl.create_default_context,
    ) -> None:
        self._guard = guard
        self._timeout = timeout
        self._ssl_context = ssl_context
        self._tls = tls
        self._tls_lock = threading.Lock()

    def post(self, url: str, headers: Mapping[str, str], body: bytes) -> PostResult:
        try:
            target = self._guard.target(url)
        except UnsafeDestination as exc:
            return PostResult(None, 0, error=f"refused: {exc.message}", refused=True)
        context = self._context() if target.url.startswith("https:") else None
        transport = PinnedTransport(target.address, ssl_context=context)
        # httpx's timeout applies to each read and write; the deadline bounds the whole attempt.
        deadline = threading.Timer(self._timeout, transport.abort)
        deadline.daemon = True
        started = time.perf_counter()
        deadline.start()
        try:
            with (
                httpx.Client(
                    transport=transport, timeout=self._timeout, follow_redirects=False, trust_env=False
                ) as client,
                client.stream(
                    "POST",
                    target.url,
                    headers={**headers, "user-agent": USER_AGENT, "accept-encoding": "identity"},
                    content=body,
                ) as response,
            ):
                raw = _read_some(response)
                code = response.status_code
                retry_after = response.headers.get("retry-after")
        except httpx.HTTPError as exc:
            if transport.aborted or isinstance(exc, httpx.TimeoutException):
                return PostResult(None, _ms(started), error=f"timed out after {self._timeout:g} s")
            return PostResult(None, _ms(started), error=f"{type(exc).__name__}: {exc}"[:500])
        finally:
            deadline.cancel()
            transport.close()
        latency = _ms(started)
        error = None
        if 300 <= code < 400:
            error = f"HTTP {code}: redirects are not followed"
        elif not 200 <= code < 300:
            error = f"HTTP {code}"
        return PostResult(code, latency, error=error, snippet=_snippet(raw), retry_after=retry_after)

    def _context(self) -> ssl.SSLContext:
        with self._tls_lock:
            if self._ssl_context is None:
                self._ssl_context = self._tls()
            return self._ssl_context


def _read_some(response: httpx.Response) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_raw():
        chunks.append(chunk)
        size += len(chunk)
        if size >= _READ_LIMIT:
            break
    return b"".join(chunks)[:_READ_LIMIT]


def _snippet(raw: bytes) -> str | None:
    text = " ".join(raw.decode("utf-8", errors="replace").split())
    text = "".join(ch for ch in text if ch.isprintable())
    return text or None  # cut to SNIPPET_CHARS after redaction (store.py)


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
