"""The chaos run's webhook receiver: a real HTTP server on loopback that verifies every signature
(official `standardwebhooks`) and answers 500 to a share of deliveries."""

from __future__ import annotations

import contextlib
import random
import threading
from collections import Counter
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook


class FlakyReceiver:
    """A real HTTP receiver that verifies each signature and answers 500 to a share of deliveries.

    A delivery is failed at most once (its retry is answered 2xx): the dispatcher's schedule waits
    five minutes before a third attempt, longer than a test may. Acknowledged ids are recorded.
    """

    def __init__(self, failure_rate: float, seed: int) -> None:
        self.failure_rate = failure_rate
        self.secret: str | None = None
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.requests = 0
        self.failed: set[str] = set()
        self.bad_signature = 0
        self.acks: Counter[str] = Counter()  # webhook-id -> 2xx answers
        self.task_of: dict[str, int] = {}  # webhook-id -> task id
        self.status_of: dict[str, str] = {}  # webhook-id -> the task status it announced
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks"

    @contextlib.contextmanager
    def running(self) -> Iterator[FlakyReceiver]:
        self._thread.start()
        try:
            yield self
        finally:
            self._server.shutdown()
            self._server.server_close()

    def answer(self, body: bytes, headers: dict[str, str]) -> int:
        with self._lock:
            self.requests += 1
            try:
                event = Webhook(self.secret or "").verify(body, headers)
            except Exception:
                self.bad_signature += 1
                return 400
            webhook_id = headers["webhook-id"]
            if webhook_id not in self.failed and self._rng.random() < self.failure_rate:
                self.failed.add(webhook_id)
                return 500
            self.acks[webhook_id] += 1
            self.task_of[webhook_id] = event["data"]["id"]
            self.status_of[webhook_id] = event["data"]["status"]
            return 200

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                status = receiver.answer(body, {k.lower(): v for k, v in self.headers.items()})
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
