"""`sopwright demo`: the whole system on one machine, against the mock portal, in a few minutes.

It starts the mock portal, the API with its worker and webhook dispatcher (`sopwright serve`), and
a webhook receiver that verifies signatures; creates a demo account with logins on both mock
payers; sends the sample tasks of `demo_tasks`; plays the person's part (supplies missing input,
approves a review); follows a pended authorization and a claim to the payer's decision (it
advances the mock portal's clock past the decision and asks for the follow-up's check now, so days
take seconds); and ends with a table. Exit 0 when every task ended as expected (each followed one's
follow-up too), and every completed submission's printed confirmation is a task file from the
portal that names its number (pypdf reads it).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from pypdf import PdfReader
from pypdf.errors import PyPdfError
from rich.console import Console
from rich.live import Live
from rich.table import Table

from handlers.portals import portal_names
from runner.cli.children import stop, stop_on_signals
from runner.cli.context import fail, out
from runner.cli.demo_tasks import BEACON, DemoTask, Follow, demo_tasks
from runner.core.operators import Role
from runner.core.settings import Settings
from runner.core.system import System, build
from runner.core.webhooks.receiver import Receiver

ROOT = Path(__file__).resolve().parents[2]
FINAL = {"completed", "completed_with_issues", "failed"}
# Starting the API imports everything: on a busy shared machine (load 20 on 2 cores) that took 60 s.
READY_SECONDS = 180
# A throw-away login for the demo's own database (synthetic; the data dir is a fresh temp dir).
DEMO_OPERATOR = "demo@example.test"
DEMO_PASSWORD = "demo-console-pass"  # noqa: S105
# The portal's knobs for the demo (mock_portal/README.md): pended auths stay pended until the clock
# passes `pended_minutes` (however often they are looked at), and the clock advances of the
# follow-ups (hours) sign nobody out and ask for no new security acknowledgement.
DEMO_KNOBS = {
    "pended_polls": 1000,
    "pended_minutes": 30,
    "idle_timeout_seconds": 2 * 86400,
    "session_lifetime_seconds": 4 * 86400,
    "security_ack_days": 30,
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def _process(name: str, command: list[str], env: dict[str, str], log: Path, ready_url: str) -> Iterator[None]:
    with log.open("w") as sink:
        # Our own interpreter running our own modules: no untrusted input reaches the command.
        proc = subprocess.Popen(command, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)  # noqa: S603
    try:
        deadline = time.monotonic() + READY_SECONDS
        while True:
            if proc.poll() is not None:
                fail(f"The {name} exited early; see {log}.")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(ready_url, timeout=1).status_code < 500:
                    break
            if time.monotonic() > deadline:
                fail(f"The {name} did not start within {READY_SECONDS} s; see {log}.")
            time.sleep(0.2)
        yield
    finally:
        stop(proc)


def demo(
    keep: Annotated[bool, typer.Option(help="Keep the data dir (database, screenshots, traces).")] = True,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for every task to finish.")] = 600,
    stay: Annotated[
        bool, typer.Option(help="Keep the portal, API and console running afterwards, until Ctrl-C.")
    ] = False,
) -> None:
    """Run the whole system against the mock portal and show what each task did."""
    with stop_on_signals():  # SIGTERM stops the portal and the API too, as Ctrl-C does
        _demo(keep=keep, timeout=timeout, stay=stay)


def _demo(*, keep: bool, timeout: float, stay: bool) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="sopwright-demo-"))
    portal_port, api_port = _free_port(), _free_port()
    portal_url, api_url = f"http://127.0.0.1:{portal_port}", f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "SOPWRIGHT_DATA_DIR": str(data_dir),
        "SOPWRIGHT_DATABASE_URL": "",
        "SOPWRIGHT_ALLOW_HOSTS": "127.0.0.1",
        "SOPWRIGHT_POLL_SCALE": "0.02",
        "SOPWRIGHT_LOG_LEVEL": "WARNING",
    }
    settings = Settings(data_dir=data_dir, allow_hosts="127.0.0.1", database_url=None, secret_key=None)
    out.print(f"[bold]sopwright demo[/] — data dir {data_dir}")
    receiver = Receiver().start()
    try:
        with _process(
            "mock portal",
            [sys.executable, "-m", "mock_portal", "--port", str(portal_port), "--admin"],
            env,
            data_dir / "portal.log",
            f"{portal_url}/_mock/payers",
        ):
            out.print(f"mock portal on {portal_url}")
            httpx.patch(f"{portal_url}/_mock/knobs", json=DEMO_KNOBS).raise_for_status()
            core = build(settings, portal_names=portal_names())
            try:
                account = _set_up(core, portal_url, receiver.url)
            finally:
                core.close()
            with _process(
                "API",
                [sys.executable, "-m", "runner.cli.main", "serve", "--port", str(api_port)],
                env,
                data_dir / "serve.log",
                f"{api_url}/healthz",
            ):
                out.print(f"API, worker and webhook dispatcher on {api_url}")
                ok = _run_tasks(api_url, portal_url, account, receiver, timeout)
                out.print(
                    f"\nOperator console: {api_url}/console — sign in as {DEMO_OPERATOR} "
                    f"with the password {DEMO_PASSWORD!r}"
                )
                if stay:
                    out.print("Everything keeps running; press Ctrl-C to stop.")
                    with contextlib.suppress(KeyboardInterrupt):
                        while True:
                            time.sleep(3600)
    finally:
        receiver.stop()
    out.print(
        f"\nLook at a task:   curl -s -H 'Authorization: Bearer {account['api_key']}' {api_url}/tasks/ID"
        "   (an id from the table)"
    )
    out.print(
        "Its trajectory:   .../tasks/ID/trajectory (screenshots per step, the HTML of a failed step, "
        "traces of retried attempts)"
    )
    out.print(
        f"Artifacts:        {data_dir / 'artifacts'}  — open a trace with `playwright show-trace trace.zip`"
    )
    out.print(f"Logs:             {data_dir / 'serve.log'}, {data_dir / 'portal.log'}")
    if not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    if not ok:
        fail("Some tasks did not end as expected (see the table).")
    out.print("[bold green]Every task ended as expected.[/]")


def _set_up(core: System, portal_url: str, webhook_url: str) -> dict[str, str]:
    created = core.accounts.create("Demo Clinic", webhook_url=webhook_url)
    core.accounts.set_defaults(
        created.account.id,
        {
            "billing_npi": "2000000002",
            "provider_npi": "2000000002",
            "tax_id": "123456789",
            "place_of_service": "11",
        },
    )
    payers = {p["key"]: p for p in httpx.get(f"{portal_url}/_mock/payers").json()}
    users = httpx.get(f"{portal_url}/_mock/users").json()
    for key, extra in (("acme", []), ("beacon", [BEACON])):
        user = users[key][0]
        core.credentials.add(
            created.account.id,
            payer=key,
            url=portal_url + payers[key]["base_path"],
            username=user["username"],
            password=user["password"],
            totp_secret=user["totp_secret"],
            serves=extra,
        )
    core.operators.create(created.account.id, DEMO_OPERATOR, role=Role.ADMIN, password=DEMO_PASSWORD)
    return {"account_id": created.account.id, "api_key": created.api_key, "secret": created.webhook_secret}


def _run_tasks(
    api_url: str, portal_url: str, account: dict[str, str], receiver: Receiver, timeout: float
) -> bool:
    headers = {"Authorization": f"Bearer {account['api_key']}"}
    samples = demo_tasks(datetime.now(UTC).date())
    api = httpx.Client(base_url=api_url, headers=headers, timeout=30)
    created: dict[int, tuple[DemoTask, dict[str, Any]]] = {}
    children: dict[int, dict[str, Any]] = {}  # parent id -> its follow-up task
    asked = False  # whether the followed samples' follow-ups were asked to check now
    printed: dict[int, str] = {}  # task id -> what its confirmation PDF shows (once final)
    for sample in samples:
        files = [("files", (Path(f).name, (ROOT / f).read_bytes(), "application/pdf")) for f in sample.files]
        body = {"type": sample.type, "data": sample.data}
        response = api.post("/tasks", data=body, files=files) if files else api.post("/tasks", json=body)
        if response.status_code != 200:
            fail(f"POST /tasks refused the sample {sample.label!r}: {response.text}")
        created[response.json()["id"]] = (sample, response.json())
    deadline = time.monotonic() + timeout
    helped: set[int] = set()
    # A table this wide needs room; a pipe (CI, a log file) gets 180 columns.
    console = out if out.is_terminal else Console(width=180)
    secret = account["secret"]
    with Live(
        _table(created, children, receiver, secret, printed), refresh_per_second=2, console=console
    ) as live:
        while time.monotonic() < deadline:
            for task_id, (sample, _) in list(created.items()):
                task = api.get(f"/tasks/{task_id}").json()
                created[task_id] = (sample, task)
                if task["status"] in FINAL and task_id not in printed:
                    printed[task_id] = _printed(api, task)
                child_id = (task.get("result") or {}).get("follow_up_task_id")
                if child_id is not None and children.get(task_id, {}).get("status") not in FINAL:
                    children[task_id] = api.get(f"/tasks/{child_id}").json()
                if task_id in helped:
                    continue
                if task["status"] == "waiting_for_input" and sample.input_later:
                    api.post(f"/tasks/{task_id}/input", json={"data": sample.input_later}).raise_for_status()
                    helped.add(task_id)
                elif task["status"] == "pending_review" and sample.approve:
                    review = {"decision": "approve", "notes": "Demo reviewer: amounts checked."}
                    api.post(f"/tasks/{task_id}/review", json=review).raise_for_status()
                    helped.add(task_id)
            followed = {
                i: s.follow for i, (s, t) in created.items() if s.follow is not None and i in children
            }
            if not asked and all(t["status"] in FINAL for s, t in created.values() if s.follow is not None):
                # One clock advance once every followed submission is final: an advance while one
                # is still taking its first look at the decision would decide it there.
                _check_now(api, portal_url, followed)
                asked = True
            live.update(_table(created, children, receiver, secret, printed))
            # Wait for every sample, and for the follow-ups of the followed ones (not the others':
            # those check back in days).
            awaited = [t for _, t in created.values()] + [
                children[i]
                for i, (sample, _) in created.items()
                if sample.follow is not None and i in children
            ]
            finished = all(t["status"] in FINAL for t in awaited)
            if finished and {t["id"] for t in awaited} <= _verified(receiver, secret):
                break
            time.sleep(0.5)
        live.update(_table(created, children, receiver, secret, printed))
    verified = _verified(receiver, secret)
    return all(
        task["status"] in sample.expect
        and task["id"] in verified
        and _printed_well(task, printed.get(task["id"], "-"))
        and (sample.follow is None or _followed(sample.follow, children.get(task["id"]), verified))
        for sample, task in created.values()
    )


def _check_now(api: httpx.Client, portal_url: str, followed: dict[int, Follow]) -> None:
    """Move the portal's clock past the payers' decisions, then ask the follow-ups of these
    parents to check now (instead of in hours or days)."""
    if not followed:
        return
    seconds = max(f.advance_seconds for f in followed.values())
    httpx.post(f"{portal_url}/_mock/clock/advance", json={"seconds": seconds}).raise_for_status()
    for parent_id in followed:
        response = api.post(f"/tasks/{parent_id}/follow-up")
        if response.status_code not in (200, 409):  # 409: it has checked already (nothing pending)
            response.raise_for_status()


def _followed(follow: Follow, child: dict[str, Any] | None, verified: set[int]) -> bool:
    """The follow-up of a followed sample ended completed with the payer's expected word, and its
    webhook arrived."""
    return (
        child is not None
        and child.get("status") == "completed"
        and (child.get("result") or {}).get(follow.key) == follow.value
        and child.get("id") in verified
    )


def _printed_well(task: dict[str, Any], printed: str) -> bool:
    """A completed submission's confirmation PDF is a task file naming its number; any other
    task's, if it has one, names its number too."""
    if task["type"].startswith("submit_") and task["status"] == "completed":
        return printed.startswith("PDF: ")
    return not printed.startswith(MISPRINTED)


MISPRINTED = "no number"


def _printed(api: httpx.Client, task: dict[str, Any]) -> str:
    """Whether the task's printed confirmation (a task file from the portal) names the number its
    result has: "-" without one, else the number pypdf found in its text (or MISPRINTED)."""
    confirmation = next(
        (
            f
            for f in task.get("files") or []
            if f.get("source") == "portal" and f.get("kind") == "confirmation"
        ),
        None,
    )
    if confirmation is None:
        return "-"
    result = task.get("result") or {}
    numbers = [str(v) for k, v in result.items() if k.endswith("_number") and v]
    try:
        content = api.get(f"/tasks/{task['id']}/files/{confirmation['id']}").content
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    except (httpx.HTTPError, PyPdfError, ValueError):
        return f"{MISPRINTED} (unreadable)"
    found = next((n for n in numbers if n in text), None)
    return f"PDF: {found}" if found else MISPRINTED


def _verified(receiver: Receiver, secret: str) -> set[int]:
    ids: set[int] = set()
    for request in receiver.received:
        with contextlib.suppress(Exception):
            envelope = request.verify(secret)
            ids.add(envelope["data"]["id"])
    return ids


def _table(
    created: dict[int, tuple[DemoTask, dict[str, Any]]],
    children: dict[int, dict[str, Any]],
    receiver: Receiver,
    secret: str,
    printed: dict[int, str],
) -> Table:
    verified = _verified(receiver, secret)
    table = Table(
        "id", "#", "task", "portal", "status", "notes", "identifiers", "webhook", "confirmation", "follow-up"
    )
    table.columns[5].max_width = 60
    for sample, task in created.values():
        status = task.get("status", "?")
        colour = "green" if status in sample.expect else ("yellow" if status not in FINAL else "red")
        result = task.get("result") or {}
        ids = ", ".join(f"{k}={v}" for k, v in result.items() if k.endswith(("_number", "_of")) and v)
        table.add_row(
            str(task.get("id", "")),
            str(task.get("task_number", "")),
            f"{sample.type} ({sample.label})",
            sample.payer,
            f"[{colour}]{status}[/]",
            task.get("notes") or "",
            ids or "-",
            "verified" if task.get("id") in verified else "-",
            printed.get(task.get("id", 0), "-"),
            _follow_up_cell(sample.follow, children.get(task.get("id", 0)), verified),
        )
    return table


def _follow_up_cell(follow: Follow | None, child: dict[str, Any] | None, verified: set[int]) -> str:
    """The follow-up task's id, status and what the payer said (decision or 277 category, paid
    amount and check/EFT number); for a follow-up the demo does not wait for, when it checks next."""
    if child is None:
        return "[red]none[/]" if follow is not None else "-"
    status = str(child.get("status", "?"))
    result = child.get("result") or {}
    said = [str(result[k]) for k in ("decision", "status_category") if result.get(k)]
    if result.get("paid_amount"):
        said.append(f"${result['paid_amount']}")
    if result.get("payment_number"):
        said.append(f"#{result['payment_number']}")
    text = f"{child.get('id')} {status}" + (f": {' '.join(said)}" if said else "")
    if follow is None:
        return f"[dim]{text} (checks back later; not awaited)[/]" if status not in FINAL else text
    if status not in FINAL:
        return f"[yellow]{text}[/]"
    said_so = status == "completed" and result.get(follow.key) == follow.value
    if child.get("id") in verified:
        colour, text = ("green" if said_so else "red"), f"{text}, webhook verified"
    else:
        colour = "yellow" if said_so else "red"  # its webhook is on its way
    return f"[{colour}]{text}[/]"
