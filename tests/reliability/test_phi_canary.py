"""PHI canary: tasks for a member whose id, name and date of birth are unique canary strings, on a
portal login whose password and TOTP secret are canaries too; then every place an operator or a
log shipper can read is searched for them.

The mock portal is seeded from a test-only fixtures directory (the shipped fixtures plus the canary
member and canary secrets). The API (`sopwright serve --no-worker`) and a `sopwright worker --once`
run as subprocesses with JSON logs at DEBUG, and a real receiver takes the webhooks.

What must hold no canary at all: the API's and the worker's output, the CLI's output when the
login is added, the delivery log as the API lists it, the attempt rows (errors, response
snippets), the artifacts' text files. The password and TOTP secret must not appear anywhere:
not in the webhook bodies, not in the delivery rows, not in the raw database file (they are
encrypted). The member's data may appear only where it belongs: the task itself (its `fields`,
`instructions`, `title`, `notes`, `result`), which the webhook body carries to the account's own
endpoint by design (the delivery rows keep that snapshot for redelivery; both are account-scoped).
Screenshots, a failing step's page HTML and Playwright traces show PHI by nature (access-controlled
artifacts, served only to the owning account), so they are searched for the secrets only: a trace
records what was typed and sent, and is redacted of the login's password and TOTP secret when
kept; so is the page HTML.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
import yaml
from sqlmodel import select

from mock_portal.seed import DEFAULT_FIXTURES
from runner.core.db import session_scope
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import WebhookAttempt, WebhookDelivery
from runner.core.webhooks.receiver import Receiver
from tests.e2e.handlers import task_data
from tests.support.portal_server import MockPortalAdmin, running_portal
from tests.support.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_SECONDS = 90.0
DOCUMENT = ROOT / "fixtures" / "documents" / "clinical_notes.pdf"

# The canaries: valid-looking values (the portal accepts them) that occur nowhere else.
MEMBER = task_data.Member("SYN742913", "Zebulonq", "Canaryxq", "1961-03-17")
WRONG_DOB = "1961-08-23"  # a second DOB canary: a mismatch the portal refuses (back to input)
UNKNOWN = task_data.Member("SYN742977", "Quillanq", "Canaryzz", "1962-11-05")  # not on file: fails
PASSWORD = "Canarypw7Zq91xKv"  # letters and digits only: the same string in every encoding
TOTP_SECRET = pyotp.random_base32()


def dob_forms(iso: str) -> list[str]:
    year, month, day = iso.split("-")
    return [
        iso,
        f"{month}/{day}/{year}",
        f"{month}{day}{year}",
        f"{year}{month}{day}",
        f"{day}/{month}/{year}",
    ]


PHI = [
    *(MEMBER.member_id, MEMBER.first, MEMBER.last, *dob_forms(MEMBER.dob), *dob_forms(WRONG_DOB)),
    *(UNKNOWN.member_id, UNKNOWN.first, UNKNOWN.last, *dob_forms(UNKNOWN.dob)),
]
SECRETS = [
    PASSWORD,
    base64.b64encode(PASSWORD.encode()).decode().rstrip("="),
    TOTP_SECRET,
]


def scan(blob: str | bytes, canaries: Iterable[str]) -> list[str]:
    """The canaries found in `blob` (case-insensitive; JSON escapes do not hide a plain string)."""
    text = blob.decode("utf-8", "replace") if isinstance(blob, bytes) else blob
    folded = text.casefold()
    return [c for c in canaries if c.casefold() in folded]


def scan_outside(value: Any, canaries: Iterable[str], allowed: set[str], path: str = "") -> list[str]:
    """Canaries in a JSON value, skipping the subtrees named in `allowed` (dotted paths)."""
    if path in allowed:
        return []
    if isinstance(value, dict):
        return [
            h for k, v in value.items() for h in scan_outside(v, canaries, allowed, f"{path}.{k}".lstrip("."))
        ]
    if isinstance(value, list):
        return [h for v in value for h in scan_outside(v, canaries, allowed, path)]
    return [f"{path}: {c}" for c in scan(json.dumps(value), canaries)]


# Where the member's own data belongs: the task as the account sees it.
TASK_PHI_HOME = {f"data.{key}" for key in ("fields", "instructions", "title", "notes", "result", "problems")}


def test_the_scanner_finds_planted_canaries() -> None:
    """The search below can fail: a canary in a log line, in JSON, upper-cased, in bytes is found."""
    line = json.dumps({"level": "debug", "message": f"typed {MEMBER.last.upper()} into the form"})
    assert scan(line, PHI) == [MEMBER.last]
    assert scan(f'"dob": "{dob_forms(MEMBER.dob)[1]}"'.encode(), PHI) == [dob_forms(MEMBER.dob)[1]]
    assert scan(b"\x00\x01" + PASSWORD.encode() + b"\xff", SECRETS) == [PASSWORD]
    assert scan(base64.b64encode(f"user:{PASSWORD}".encode()), SECRETS) == []  # offset matters...
    assert scan(base64.b64encode(PASSWORD.encode()), SECRETS) == [SECRETS[1]]  # ...but not at 0
    body = {"event": "task_finished", "data": {"fields": {"member_id": MEMBER.member_id}, "notes": "ok"}}
    assert scan_outside(body, PHI, TASK_PHI_HOME) == []
    body["data"]["id"] = MEMBER.member_id
    assert scan_outside(body, PHI, TASK_PHI_HOME) == [f"data.id: {MEMBER.member_id}"]
    assert scan("member SYN742914, Canaryx, 1961-03-16", PHI) == []  # near misses are not hits


# -- the system under test ----------------------------------------------------------------------


def canary_fixtures(target: Path) -> Path:
    """The shipped portal fixtures, plus the canary member and canary secrets for acme.biller."""
    shutil.copytree(DEFAULT_FIXTURES, target)
    members = yaml.safe_load((target / "members.yaml").read_text())
    template = next(m for m in members if m["member_id"] == "SYN100001")
    members.append(
        {
            **template,
            "member_id": MEMBER.member_id,
            "first_name": MEMBER.first,
            "last_name": MEMBER.last,
            "date_of_birth": MEMBER.dob,
        }
    )
    (target / "members.yaml").write_text(yaml.safe_dump(members, sort_keys=False))
    users = yaml.safe_load((target / "users.yaml").read_text())
    users["acme"][0].update(password=PASSWORD, totp_secret=TOTP_SECRET)
    (target / "users.yaml").write_text(yaml.safe_dump(users, sort_keys=False))
    return target


def env_for(settings: Settings, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SOPWRIGHT_")}
    env.update(
        SOPWRIGHT_DATA_DIR=str(settings.data_dir),
        SOPWRIGHT_DATABASE_URL=settings.resolved_database_url(),
        SOPWRIGHT_SECRET_KEY=str(settings.secret_key),
        SOPWRIGHT_LOG_LEVEL="DEBUG",
        SOPWRIGHT_LOG_FORMAT="json",
        SOPWRIGHT_ALLOW_HOSTS="127.0.0.1",
        SOPWRIGHT_POLL_SCALE="0.01",
        SOPWRIGHT_TRACE="on-failure",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


@dataclass
class Api:
    url: str
    log: Path


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sopwright.db'}"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_hosts": "127.0.0.1"})


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[MockPortalAdmin]:
    with running_portal(admin=True, fixtures_dir=canary_fixtures(tmp_path / "portal")) as url:
        admin = MockPortalAdmin(url)
        yield admin
        admin.close()


@pytest.fixture
def api(settings: Settings, system: System, tmp_path: Path) -> Iterator[Api]:
    port = free_port()
    log = tmp_path / "api.log"
    command = [sys.executable, "-m", "runner.cli.main", "serve", "--no-worker", "--port", str(port)]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, env=env_for(settings), cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"The API exited during start-up:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"The API did not start:\n{log.read_text()}")
            time.sleep(0.05)  # start-up polling against a deadline
        yield Api(url, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_cli(settings: Settings, args: list[str], log: Path, **env: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "runner.cli.main", *args],
        env=env_for(settings, **env),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=DEADLINE_SECONDS,
    )
    output = done.stdout + done.stderr
    with log.open("a") as sink:
        sink.write(output)
    assert done.returncode == 0, output
    return output


def test_no_phi_or_secret_leaks_outside_the_protected_stores(
    system: System,
    settings: Settings,
    portal: MockPortalAdmin,
    api: Api,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    created = system.accounts.create("Canary Clinic", webhook_url=receiver.url)
    cli_log = tmp_path / "cli.log"
    run_cli(
        settings,
        [
            "portals",
            "add",
            "Canary Clinic",
            "--payer",
            "acme",
            "--url",
            f"{portal.base_url}/acme",
            "--username",
            "acme.biller",
            "--password-env",
            "CANARY_PW",
            "--totp-secret-env",
            "CANARY_TOTP",
        ],
        cli_log,
        CANARY_PW=PASSWORD,
        CANARY_TOTP=TOTP_SECRET,
    )
    run_cli(settings, ["portals", "list", "Canary Clinic"], cli_log)

    headers = {"Authorization": f"Bearer {created.api_key}"}
    with httpx.Client(base_url=api.url, headers=headers, timeout=60) as client:
        eligibility = client.post(
            "/tasks", json={"type": "check_eligibility", "data": task_data.eligibility("acme", MEMBER)}
        )
        claim = client.post(
            "/tasks",
            data={"type": "submit_claim", "data": task_data.claim("acme", MEMBER)},
            files=[("files", (DOCUMENT.name, DOCUMENT.read_bytes(), "application/pdf"))],
        )
        mismatch = client.post(
            "/tasks",
            json={
                "type": "check_eligibility",
                "data": task_data.eligibility(
                    "acme", task_data.Member(MEMBER.member_id, MEMBER.first, MEMBER.last, WRONG_DOB)
                ),
            },
        )
        unknown = client.post(
            "/tasks", json={"type": "check_eligibility", "data": task_data.eligibility("acme", UNKNOWN)}
        )
        incomplete = client.post(  # an unreadable DOB: waiting_for_input, notes name the field
            "/tasks",
            json={
                "type": "check_eligibility",
                "data": task_data.eligibility("acme", MEMBER).replace(MEMBER.dob, MEMBER.dob + "x"),
            },
        )
        for response in (eligibility, claim, mismatch, unknown, incomplete):
            assert response.status_code == 200, response.text
        assert incomplete.json()["status"] == "waiting_for_input"
        finishing = [r.json()["id"] for r in (eligibility, claim, mismatch, unknown)]

        worker_log = tmp_path / "worker.log"
        run_cli(settings, ["worker", "--once"], worker_log)
        receiver.wait_for(3, timeout=DEADLINE_SECONDS)
        tasks = {task_id: client.get(f"/tasks/{task_id}").json() for task_id in finishing}
        deliveries = client.get("/webhooks/deliveries").json()

    # The run did what it should, so the search below looked at a real run.
    statuses = {t["id"]: t["status"] for t in tasks.values()}
    assert statuses[finishing[0]] == "completed", tasks[finishing[0]]["notes"]
    assert statuses[finishing[1]] == "completed", tasks[finishing[1]]["notes"]
    assert statuses[finishing[2]] == "waiting_for_input", tasks[finishing[2]]["notes"]  # DOB mismatch
    assert statuses[finishing[3]] == "failed", tasks[finishing[3]]["notes"]  # not on file
    sent = portal.submissions(payer="acme")
    assert {s["fields"]["member_id"] for s in sent} == {
        MEMBER.member_id,
        UNKNOWN.member_id,
    }  # the canaries did reach the portal
    assert any(scan(json.dumps(t["fields"]), [MEMBER.last]) for t in tasks.values())  # and the task store

    worker_text = worker_log.read_text()
    assert '"level": "debug"' in worker_text and '"task_id"' in worker_text  # verbose, per-task logs
    assert '"logger": "uvicorn.access"' in api.log.read_text()  # the API's access log, as JSON too

    hits: dict[str, list[str]] = {}

    def check(where: str, found: list[str]) -> None:
        if found:
            hits[where] = found

    # Logs and CLI output: nothing at all.
    for log in (api.log, worker_log, cli_log):
        check(log.name, scan(log.read_bytes(), PHI + SECRETS))
    # Webhook bodies: no secret anywhere, the member's data only inside the task's own record.
    bodies = receiver.wait_for(3)
    assert len(bodies) >= 3
    for received in bodies:
        check(f"webhook {received.webhook_id} (secrets)", scan(received.body, SECRETS))
        check(f"webhook {received.webhook_id}", scan_outside(json.loads(received.body), PHI, TASK_PHI_HOME))
        check(f"webhook {received.webhook_id} headers", scan(json.dumps(received.headers), PHI + SECRETS))
        received.verify(created.webhook_secret)
    # The delivery log, as listed, and its rows.
    check("GET /webhooks/deliveries (secrets)", scan(json.dumps(deliveries), SECRETS))
    listed = deliveries["data"] if isinstance(deliveries, dict) and "data" in deliveries else deliveries
    for delivery in listed:
        allowed = {f"payload.{p}" for p in TASK_PHI_HOME} | {p.removeprefix("data.") for p in TASK_PHI_HOME}
        check(f"delivery {delivery.get('id')}", scan_outside(delivery, PHI, allowed))
    with session_scope(system.engine, readonly=True) as session:
        for row in session.exec(select(WebhookDelivery)).all():
            check(f"delivery row {row.id} (secrets)", scan(json.dumps(row.payload), SECRETS))
            check(f"delivery row {row.id} payload", scan_outside(row.payload, PHI, TASK_PHI_HOME))
            check(f"delivery row {row.id} error", scan(row.last_error or "", PHI + SECRETS))
        for attempt in session.exec(select(WebhookAttempt)).all():
            check(
                f"attempt {attempt.id}",
                scan(f"{attempt.url} {attempt.error} {attempt.response_snippet}", PHI + SECRETS),
            )
    # Artifacts: screenshots, page HTML and traces show PHI by nature (access-controlled); other
    # text files must not.
    artifacts = settings.data_dir / "artifacts"
    traces = pages = 0
    for path in sorted(p for p in artifacts.rglob("*") if p.is_file()):
        if path.suffix.lower() == ".zip":  # a trace: its members, decompressed, hold no secret
            traces += 1
            with zipfile.ZipFile(path) as trace:
                for name in trace.namelist():
                    check(f"trace {path.relative_to(artifacts)}:{name}", scan(trace.read(name), SECRETS))
        elif path.suffix.lower() == ".html":  # the page where a step failed: no secret
            pages += 1
            check(f"page {path.relative_to(artifacts)}", scan(path.read_bytes(), SECRETS))
        elif path.suffix.lower() not in {".png", ".jpg", ".jpeg"}:
            check(f"artifact {path.relative_to(artifacts)}", scan(path.read_bytes(), PHI + SECRETS))
    assert traces, "no trace was kept: the failed task should have left one to search"
    assert pages, "no page HTML was kept: the failed step should have left one to search"
    # The database file: the member's data is in it (the task store), the secrets only encrypted.
    db_file = Path(settings.resolved_database_url().split("///", 1)[1])
    raw = b"".join(p.read_bytes() for p in (db_file, db_file.with_name(db_file.name + "-wal")) if p.exists())
    check("database file", scan(raw, SECRETS))
    assert scan(raw, [MEMBER.last])  # the search does read the table data

    assert hits == {}, json.dumps(hits, indent=2)
