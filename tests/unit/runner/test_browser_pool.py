"""The browser pool without a browser: endpoint labels for logs, the launch options sent to a
browser server, which local Chromium is launched, and a clear error when no configured server
answers."""

from __future__ import annotations

import asyncio
import logging
import socket
from concurrent.futures import ThreadPoolExecutor

import pytest

import handlers.browser
from handlers.browser import LAUNCH_ARGS, launch_options, server_launch_options
from runner.core.browser import BrowserUnavailable
from runner.core.pool import BrowserPool, endpoint_label


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest.mark.parametrize(
    ("endpoint", "label"),
    [
        ("ws://127.0.0.1:3000/", "ws://127.0.0.1:3000/"),
        ("wss://user:s3cret@browsers.example:443/pw?token=abc", "wss://browsers.example:443/pw"),
        ("ws://browsers.internal/", "ws://browsers.internal/"),
    ],
)
def test_endpoint_label_drops_credentials_and_query(endpoint: str, label: str) -> None:
    assert endpoint_label(endpoint) == label


def test_server_launch_options_send_the_configured_path_unchecked() -> None:
    # The path is one on the server's machine: it need not exist here.
    options = server_launch_options("/opt/elsewhere/chrome", headless=True)
    assert options == {"headless": True, "args": LAUNCH_ARGS, "executablePath": "/opt/elsewhere/chrome"}
    assert "executablePath" not in server_launch_options(None)


def test_headless_runs_prefer_the_system_headless_shell(monkeypatch: pytest.MonkeyPatch) -> None:
    installed = {"chromium": "/usr/bin/chromium", "/usr/lib/chromium/chromium-headless-shell": "shell"}
    monkeypatch.setattr(handlers.browser, "_bundled_chromium", lambda: None)
    monkeypatch.setattr(handlers.browser.shutil, "which", installed.get)
    assert launch_options(headless=True)["executable_path"] == "shell"
    assert launch_options(headless=False)["executable_path"] == "/usr/bin/chromium"  # a window: full
    del installed["/usr/lib/chromium/chromium-headless-shell"]
    assert launch_options(headless=True)["executable_path"] == "/usr/bin/chromium"  # no shell: full


def test_pool_rejects_a_zero_cap() -> None:
    with pytest.raises(ValueError, match="max_contexts"):
        BrowserPool(endpoints=["ws://127.0.0.1:1/"], max_contexts=0)


def test_start_fails_clearly_when_no_server_answers(caplog: pytest.LogCaptureFixture) -> None:
    endpoint = f"ws://probe:secret@127.0.0.1:{closed_port()}/?token=t0k3n"
    pool = BrowserPool(endpoints=[endpoint], connect_timeout=10)
    caplog.set_level(logging.INFO, logger="runner.core.pool")

    async def start() -> None:
        await pool.start()

    with ThreadPoolExecutor(1) as thread, pytest.raises(BrowserUnavailable) as raised:
        # Off the main thread: pytest-playwright may own its event loop.
        thread.submit(asyncio.run, start()).result(timeout=60)
    label = endpoint_label(endpoint)
    assert raised.value.message.startswith(f"No browser server answered ({label})")
    assert "SOPWRIGHT_BROWSER_WS_ENDPOINT" in raised.value.message
    [down] = [r for r in caplog.records if r.getMessage() == "browser server down"]
    assert down.server == label  # type: ignore[attr-defined]
    assert all("secret" not in str(r.__dict__) and "t0k3n" not in str(r.__dict__) for r in caplog.records)
    assert pool.in_use == 0
