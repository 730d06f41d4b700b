"""A real webhook receiver on loopback, for tests and demos: records requests, answers from a script.

It is a plain `http.server` in a thread, not a mock: requests cross a real socket through the
dispatcher's real transport. `stop()` closes the socket (the endpoint is then down: connection
refused) and `start()` binds the same port again.
"""

from __future__ import annotations

import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to hold the request before answering (a slow or hung endpoint)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    @property
    def timestamp(self) -> int:
        return int(self.headers["webhook-timestamp"])

    def verify(self, secret: str) -> Any:
        """The parsed body if `secret` signed it (official `standardwebhooks`), else it raises."""
        return Webhook(secret).verify(self.body, self.headers)


class Receiver:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        tls: ssl.SSLContext | None = None,
        on_request: Callable[[Received], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._tls = tls  # a server context: the receiver speaks https
        self._on_request = on_request  # called (in the server's thread) for each request
        self.received: list[Received] = []
        self._replies: deque[Reply] = deque()
        self._default = Reply()
        self._lock = threading.Condition()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"{'https' if self._tls else 'http'}://{self.host}:{self.port}/hooks"

    def reply(self, *replies: Reply, default: Reply | None = None) -> None:
        """Answer the next requests with `replies` in order, then with `default` (200 at first)."""
        with self._lock:
            self._replies.extend(replies)
            if default is not None:
                self._default = default

    def start(self) -> Receiver:
        server = ThreadingHTTPServer((self.host, self.port), _handler(self))
        server.daemon_threads = True
        if self._tls is not None:
            server.socket = self._tls.wrap_socket(server.socket, server_side=True)
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    @contextmanager
    def running(self) -> Iterator[Receiver]:
        self.start()
        try:
            yield self
        finally:
            self.stop()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        with self._lock:
            self._lock.wait_for(lambda: len(self.received) >= count, timeout=timeout)
            return list(self.received)

    def _record(self, request: Received) -> Reply:
        if self._on_request is not None:
            self._on_request(request)
        with self._lock:
            self.received.append(request)
            reply = self._replies.popleft() if self._replies else self._default
            self._lock.notify_all()
            return reply


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            reply = receiver._record(Received(self.path, headers, body))
            if reply.delay:
                time.sleep(reply.delay)
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("content-length", str(len(reply.body)))
            self.end_headers()
            self.wfile.write(reply.body)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet: tests read `received`

    return Handler
