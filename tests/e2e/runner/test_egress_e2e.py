"""The egress gate in real Chromium: a portal page on an allowed host (127.0.0.1) that reaches for a
refused one (127.0.0.2) by every road a page has (an <img>, an <img> whose URL redirects there, an
iframe, fetch, a WebSocket, a navigation that redirects there) gets nowhere, while the mock portal
works through the same gate. A negative control runs the same page without the gate and sees every
road arrive, so the test cannot pass by the page failing to try."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from handlers.context import StepContext
from handlers.registry import PortalHandler, StepScript
from runner.core.db import session_scope
from runner.core.pool import BrowserPool
from runner.core.runtime import build_executor, build_worker
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account, Task
from runner.core.worker import Worker
from tests.e2e.handlers import task_data
from tests.support.portal_server import MockPortalAdmin
from tests.support.threaded import run_async

CLAIM = Path(__file__).resolve().parents[3] / "fixtures" / "tasks" / "submit_claim.txt"
ROADS = {"/img", "/hop-img", "/frame", "/fetch", "/ws", "/secret"}
PAGE = """<!doctype html><title>loading</title>
<img id="direct" src="http://127.0.0.2:{port}/img">
<img id="hop" src="/portal/hop-img">
<iframe id="frame" src="http://127.0.0.2:{port}/frame"></iframe>
<script>
const settled = (el, events) => new Promise(r => events.forEach(e => el.addEventListener(e, r)));
const socket = new WebSocket("ws://127.0.0.2:{port}/ws");
Promise.allSettled([
  settled(document.getElementById("direct"), ["load", "error"]),
  settled(document.getElementById("hop"), ["load", "error"]),
  settled(document.getElementById("frame"), ["load"]),
  fetch("http://127.0.0.2:{port}/fetch", {{mode: "no-cors"}}),
  settled(socket, ["close", "error"]),
]).then(() => {{ document.title = "settled"; }});
</script>"""


class Internal(socketserver.ThreadingTCPServer):
    """A service on 127.0.0.2 (refused): records the path of every request that reaches it."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.2", 0), _InternalHandler)
        self.reached: set[str] = set()


class _InternalHandler(socketserver.StreamRequestHandler):
    server: Internal

    def handle(self) -> None:
        line = self.rfile.readline().decode("latin-1").split(" ")
        self.server.reached.add(line[1] if len(line) > 1 else "?")
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\ncontent-length: 20\r\nconnection: close\r\n\r\ninternal admin page\n"
        )


class Hostile(ThreadingHTTPServer):
    """The 'portal' an account admin configured: allowed (127.0.0.1), but its pages reach inside."""

    daemon_threads = True

    def __init__(self, internal_port: int) -> None:
        super().__init__(("127.0.0.1", 0), _HostileHandler)
        self.internal_port = internal_port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/portal"


class _HostileHandler(BaseHTTPRequestHandler):
    server: Hostile
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        return None

    def do_GET(self) -> None:
        internal = f"http://127.0.0.2:{self.server.internal_port}"
        if self.path == "/portal/page":
            body = PAGE.format(port=self.server.internal_port).encode()
            self.send_response(200)
            self.send_header("content-type", "text/html")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        targets = {"/portal/hop-img": "/hop-img", "/portal/go": "/secret"}
        self.send_response(302 if self.path in targets else 404)
        if self.path in targets:
            self.send_header("location", internal + targets[self.path])
        self.send_header("content-length", "0")
        self.end_headers()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"trace": "off", "poll_scale": 0.001})


@pytest.fixture
def internal() -> Iterator[Internal]:
    server = Internal()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


@pytest.fixture
def hostile(internal: Internal) -> Iterator[Hostile]:
    server = Hostile(internal.server_address[1])
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def hostile_portal() -> PortalHandler:
    async def open_page(ctx: StepContext) -> None:
        await ctx.page.goto(ctx.url("page"))
        await ctx.page.wait_for_function("document.title === 'settled'")

    async def follow_redirect(ctx: StepContext) -> None:
        await ctx.page.goto(ctx.url("go"))
        # Where the redirect landed, in a key the claim's result declares (the runner checks them).
        ctx.result["payer_message"] = (await ctx.page.inner_text("body"))[:200]

    async def nothing(ctx: StepContext) -> None:
        return None

    async def capture(ctx: StepContext) -> None:
        ctx.result["claim_number"] = "HS0000000001"

    scripts: dict[str, StepScript] = {
        "login": open_page,
        "open_claim_form": follow_redirect,
        "fill_claim": nothing,
        "submit_claim": nothing,
        "capture_claim_number": capture,
    }
    return PortalHandler("hostile", "Hostile Health", "hostile-1", scripts)


def hostile_claim(system: System, hostile: Hostile) -> tuple[Account, Task]:
    account = system.accounts.create("Clinic").account
    system.credentials.add(
        account.id, payer="hostile", url=hostile.url, username="u", password="p", totp_secret=None
    )
    data = CLAIM.read_text().replace("payer: Acme Health", "payer: hostile")
    task = system.tasks.create(account, type="submit_claim", data=data, actor="test")
    assert task.status == "pending", task.notes
    return account, task


def reload(system: System, task_id: str) -> Task:
    with session_scope(system.engine, readonly=True) as session:
        task = session.get(Task, task_id)
        assert task is not None
        return task


def test_a_portal_page_cannot_reach_a_refused_host_by_any_road(
    system: System, hostile: Hostile, internal: Internal
) -> None:
    _, task = hostile_claim(system, hostile)
    worker = build_worker(system, portals={"hostile": hostile_portal()}, concurrency=1, poll_interval=0.05)
    run_async(lambda: worker.run(once=True))
    done = reload(system, task.id)
    assert done.status == "completed", done.notes
    assert internal.reached == set()
    # The navigation's redirect ended on the gate's refusal, not on the internal page.
    landed = (done.result or {})["payer_message"]
    assert "sopwright refused this request" in landed and "loopback" in landed
    assert "internal admin page" not in landed


def test_negative_control_without_the_gate_every_road_arrives(
    system: System, hostile: Hostile, internal: Internal
) -> None:
    _, task = hostile_claim(system, hostile)
    executor = build_executor(system, portals={"hostile": hostile_portal()})
    worker = Worker(system.queue, executor, BrowserPool(), concurrency=1, poll_interval=0.05)
    run_async(lambda: worker.run(once=True))
    assert reload(system, task.id).status == "completed"
    assert internal.reached >= ROADS  # and the favicon, and Chromium's preconnects


def test_the_mock_portal_works_through_the_gate(system: System, portal: MockPortalAdmin) -> None:
    account = system.accounts.create("Maple Street Clinic").account
    user = portal.user("acme")
    base = next(p["base_path"] for p in portal.payers() if p["key"] == "acme")
    system.credentials.add(
        account.id,
        payer="acme",
        url=portal.base_url + base,
        username=user["username"],
        password=user["password"],
        totp_secret=user["totp_secret"],
    )
    task = system.tasks.create(account, type="submit_claim", data=task_data.claim("acme"), actor="test")
    worker = build_worker(system, concurrency=1, poll_interval=0.05)
    run_async(lambda: worker.run(once=True))
    done = reload(system, task.id)
    assert done.status == "completed", done.notes
    assert (done.result or {}).get("claim_number")
