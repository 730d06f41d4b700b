"""Start the mock payer portal in-process on a free port, for tests and the reliability tier.

    with running_portal() as base_url:
        httpx.post(f"{base_url}/_mock/reset")

The server runs in a background thread (uvicorn.Server) and is stopped on exit. `MockPortalAdmin`
wraps the test-only admin API.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from mock_portal.app import create_app
from mock_portal.portal import PortalConfig
from mock_portal.seed import DEFAULT_FIXTURES

START_TIMEOUT_SECONDS = 90.0  # the portal loads the ICD-10 code set before it serves


def _free_socket() -> socket.socket:
    # proto=IPPROTO_TCP matters: asyncio sets TCP_NODELAY on accepted connections only for
    # sockets that say so; without it every response waits ~40 ms (Nagle + delayed ACK).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def running_portal(*, admin: bool = True, fixtures_dir: Path = DEFAULT_FIXTURES) -> Iterator[str]:
    """Yield the base URL of a fresh portal listening on 127.0.0.1 and a free port."""
    app = create_app(PortalConfig(admin=admin, fixtures_dir=fixtures_dir))
    sock = _free_socket()
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="mock-portal", daemon=True)
    thread.start()
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(server, thread, base_url)
        yield base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _wait_until_up(server: uvicorn.Server, thread: threading.Thread, base_url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not thread.is_alive():
            raise RuntimeError("The mock portal server thread exited during start-up.")
        if server.started:
            try:
                if httpx.get(f"{base_url}/", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
        time.sleep(0.02)  # start-up polling in a helper, not a wait inside a test
    raise RuntimeError(f"The mock portal did not answer at {base_url} within {START_TIMEOUT_SECONDS} s.")


class MockPortalAdmin:
    """The admin API (/_mock/) of a running portal."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, timeout=10.0)

    def close(self) -> None:
        self._http.close()

    def reset(self) -> None:
        self._http.post("/_mock/reset").raise_for_status()

    def knobs(self) -> dict[str, Any]:
        response = self._http.get("/_mock/knobs")
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def set_knobs(self, **knobs: Any) -> dict[str, Any]:
        response = self._http.patch("/_mock/knobs", json=knobs)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def advance_clock(self, seconds: float) -> None:
        self._http.post("/_mock/clock/advance", json={"seconds": seconds}).raise_for_status()

    def user(self, payer: str, index: int = 0) -> dict[str, Any]:
        response = self._http.get("/_mock/users")
        response.raise_for_status()
        user: dict[str, Any] = response.json()[payer][index]
        return user

    def payers(self) -> list[dict[str, Any]]:
        response = self._http.get("/_mock/payers")
        response.raise_for_status()
        payers: list[dict[str, Any]] = response.json()
        return payers

    def submissions(self, *, payer: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in {"payer": payer, "kind": kind}.items() if v}
        response = self._http.get("/_mock/submissions", params=params)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found

    def page_loads(self) -> list[dict[str, str]]:
        """The browser page loads since the last reset, oldest first (`payer`, `dest`, `method`, `path`)."""
        response = self._http.get("/_mock/traffic")
        response.raise_for_status()
        recent: list[dict[str, str]] = response.json()["recent"]
        return recent

    def lookups(self, *, payer: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Claim/auth status lookups since the last reset, oldest first (see mock_portal/README.md)."""
        params = {k: v for k, v in {"payer": payer, "kind": kind}.items() if v}
        response = self._http.get("/_mock/lookups", params=params)
        response.raise_for_status()
        found: list[dict[str, Any]] = response.json()
        return found

    def documents(self, *, payer: str | None = None) -> list[dict[str, Any]]:
        """PDF documents (EOBs, remittance advice, auth letters) served since the last reset."""
        response = self._http.get("/_mock/documents", params={"payer": payer} if payer else {})
        response.raise_for_status()
        served: list[dict[str, Any]] = response.json()
        return served
