"""An httpx transport that connects to the address the destination policy checked, whatever DNS
says now.

The request keeps its URL, so the `Host` header, TLS SNI and certificate checks still use the
host name; only the TCP connection is pinned. No proxies, no redirects, one connection.

`abort()` (called from another thread) shuts the connection down, waking a blocked read: httpx's
timeouts are per read, so an endpoint that trickles bytes could otherwise hold a dispatcher
thread far past its lease.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx


class _PinnedBackend(httpcore.NetworkBackend):
    def __init__(self, address: str) -> None:
        self._address = address
        self._backend = httpcore.SyncBackend()
        self._lock = threading.Lock()
        # Duplicates of the connected sockets: shutting one down ends the connection, and holding
        # it means the descriptor cannot be reused by another socket before `release`.
        self._handles: list[socket.socket] = []
        self.aborted = False

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._backend.connect_tcp(self._address, port, timeout, local_address, socket_options)
        raw = stream.get_extra_info("socket")
        with self._lock:
            if isinstance(raw, socket.socket):
                self._handles.append(raw.dup())
            if self.aborted:
                self._shutdown_all()
        return stream

    def abort(self) -> None:
        with self._lock:
            self.aborted = True
            self._shutdown_all()

    def release(self) -> None:
        with self._lock:
            for handle in self._handles:
                handle.close()
            self._handles.clear()

    def _shutdown_all(self) -> None:
        for handle in self._handles:
            with contextlib.suppress(OSError):
                handle.shutdown(socket.SHUT_RDWR)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not used for webhooks")

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


class _ResponseStream(httpx.SyncByteStream):
    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _mapped():
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class PinnedTransport(httpx.BaseTransport):
    """`ssl_context` is needed for https only (the sender builds one and reuses it)."""

    def __init__(self, address: str, *, ssl_context: ssl.SSLContext | None = None) -> None:
        self._backend = _PinnedBackend(address)
        self._tls = ssl_context is not None
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, max_connections=1, network_backend=self._backend
        )

    @property
    def aborted(self) -> bool:
        return self._backend.aborted

    def abort(self) -> None:
        """End the request in flight (thread-safe); it fails with a network error."""
        self._backend.abort()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        if request.url.scheme == "https" and not self._tls:
            # httpcore would fall back to its own CA bundle (certifi), not the system's.
            raise ValueError("PinnedTransport needs an ssl_context for https")
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=request.url.raw_scheme,
                host=request.url.raw_host,
                port=request.url.port,
                target=request.url.raw_path,
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _mapped():
            response = self._pool.handle_request(core_request)
        assert isinstance(response.stream, Iterable)
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_ResponseStream(response.stream),
            extensions=response.extensions,
        )

    def close(self) -> None:
        self._pool.close()
        self._backend.release()


class _mapped:
    """httpcore's errors as httpx's, so callers catch one family."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if not isinstance(exc, httpcore.TimeoutException | httpcore.NetworkError | httpcore.ProtocolError):
            return
        if isinstance(exc, httpcore.TimeoutException):
            raise httpx.TimeoutException(str(exc) or "timed out") from exc
        if isinstance(exc, httpcore.ConnectError):
            raise httpx.ConnectError(str(exc) or "connection failed") from exc
        if isinstance(exc, httpcore.ProtocolError):
            raise httpx.RemoteProtocolError(str(exc) or "protocol error") from exc
        raise httpx.NetworkError(str(exc) or "network error") from exc
