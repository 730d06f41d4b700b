"""Bodies are counted as they arrive: a chunked body (no Content-Length) past its route's limit
is stopped with a 413 after about the limit, never buffered or spooled whole (issue 15, item 3).

The app is called as ASGI with a `receive` that hands out the body chunk by chunk and counts how
many chunks were asked for: what a server does with `Transfer-Encoding: chunked`.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlmodel import select

from runner.api.app import create_app
from runner.api.bodylimit import ENVELOPE_BYTES, text_limit, upload_limit
from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Batch, Task
from tests.unit.runner.callers import Caller

CHUNK = 64 * 1024
TOTAL = 32 * 1024 * 1024  # far past every limit below; a reader that does not stop reads it all
BOUNDARY = "sopwrightboundary"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_total_bytes": 1024 * 1024})  # upload limit: 3 MB


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    read: int  # body bytes the app asked for

    def json(self) -> dict[str, object]:
        value = json.loads(self.body)
        assert isinstance(value, dict)
        return value


def post_chunked(
    app: FastAPI, path: str, headers: dict[str, str], head: bytes, *, total: int = TOTAL
) -> Answer:
    """POST `head` padded with zero bytes to `total`, one CHUNK per `receive`, without a length."""
    read = 0

    async def receive() -> dict[str, object]:
        nonlocal read
        if read >= total:
            return {"type": "http.disconnect"}
        body = head[read : read + CHUNK].ljust(min(CHUNK, total - read), b"\0")
        read += len(body)
        return {"type": "http.request", "body": body, "more_body": read < total}

    messages: list[dict[str, object]] = []

    async def send(message: dict[str, object]) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"transfer-encoding", b"chunked"),
            *((k.lower().encode(), v.encode()) for k, v in headers.items()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }
    # Off the main thread: pytest-playwright keeps an event loop running there after an e2e test.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, app(scope, receive, send)).result(timeout=120)  # type: ignore[arg-type]
    start = messages[0]
    raw_headers = start["headers"]
    assert isinstance(raw_headers, list)
    return Answer(
        status=int(start["status"]),  # type: ignore[call-overload]
        headers={k.decode(): v.decode() for k, v in raw_headers},
        body=b"".join(m.get("body", b"") for m in messages[1:]),  # type: ignore[misc]
        read=read,
    )


def file_part(name: str = "files") -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"; filename="big.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-"
    ).encode()


def test_a_chunked_json_body_stops_at_the_text_limit(system: System, caller: Caller) -> None:
    app = create_app(system)
    headers = {**caller.headers, "Content-Type": "application/json"}
    answer = post_chunked(app, "/tasks", headers, b'{"type": "check_eligibility", "data": "')
    assert answer.status == 413
    error = answer.json()["error"]
    assert isinstance(error, dict) and error["code"] == "too_large"
    assert "at most 2 MB" in str(error["message"])
    assert answer.read <= text_limit(system.settings.max_data_chars) + CHUNK


def test_a_chunked_json_body_to_an_action_stops_at_the_text_limit(system: System, caller: Caller) -> None:
    task = system.tasks.create(
        system.accounts.find(caller.account_id), type="check_eligibility", data="member: 1", actor="t"
    )
    app = create_app(system)
    headers = {**caller.headers, "Content-Type": "application/json"}
    answer = post_chunked(app, f"/tasks/{task.id}/cancel", headers, b'{"reason": "')
    assert answer.status == 413 and answer.json()["error"]["code"] == "too_large"  # type: ignore[index]
    assert answer.read <= text_limit(system.settings.max_data_chars) + CHUNK
    assert system.tasks.get(caller.account_id, task.id)[0].status != "failed"


def test_a_chunked_upload_stops_at_the_upload_limit(system: System, caller: Caller) -> None:
    app = create_app(system)
    headers = {**caller.headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    answer = post_chunked(app, "/tasks", headers, file_part())
    assert answer.status == 413 and answer.json()["error"]["code"] == "too_large"  # type: ignore[index]
    limit = upload_limit(system.upload_limits)
    assert text_limit(system.settings.max_data_chars) < answer.read <= limit + CHUNK


def test_a_chunked_multipart_sign_in_is_not_spooled(system: System) -> None:
    app = create_app(system)
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "Origin": "http://testserver"}
    answer = post_chunked(app, "/console/signin", headers, file_part("password"))
    assert answer.status in (400, 413) and answer.headers["content-type"].startswith("text/html")
    assert answer.read <= text_limit(system.settings.max_data_chars) + CHUNK
    fields = b"".join(
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{i}"\r\n\r\n{"x" * 60_000}\r\n'.encode()
        for i in range(100)
    )  # 100 fields of 60 KB: each within the part limit, 6 MB in all
    answer = post_chunked(app, "/console/signin", headers, fields, total=len(fields))
    assert answer.status == 413 and "too large" in answer.body.decode()
    assert answer.read <= text_limit(system.settings.max_data_chars) + CHUNK


def test_a_declared_length_past_the_limit_is_refused_before_reading(system: System, caller: Caller) -> None:
    app = create_app(system)
    headers = {**caller.headers, "Content-Type": "application/json", "Content-Length": str(TOTAL)}
    answer = post_chunked(app, "/tasks", headers, b"{")
    assert answer.status == 413 and answer.read == 0


def batch_file_part() -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.csv"\r\n'
        "Content-Type: text/csv\r\n\r\nmember_id,patient\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("content_type", "head", "envelope"),
    [
        ("application/json", b'{"type": "check_eligibility", "rows": ["', 0),
        (f"multipart/form-data; boundary={BOUNDARY}", batch_file_part(), ENVELOPE_BYTES),
    ],
    ids=["json", "csv"],
)
def test_a_chunked_batch_stops_at_the_batch_limit_and_creates_nothing(
    system: System, caller: Caller, content_type: str, head: bytes, envelope: int
) -> None:
    app = create_app(system)
    headers = {**caller.headers, "Content-Type": content_type}
    answer = post_chunked(app, "/batches", headers, head)
    assert answer.status == 413 and answer.json()["error"]["code"] == "too_large"  # type: ignore[index]
    limit = system.settings.batch_max_bytes + envelope
    assert text_limit(system.settings.max_data_chars) < answer.read <= limit + CHUNK
    with session_scope(system.engine, readonly=True) as session:
        assert session.exec(select(Batch)).all() == [] and session.exec(select(Task)).all() == []
