"""Documents kept from the portal (issue 13 §3), on SQLite and PostgreSQL, without Chromium: a
step script prints its page (the fake page prints a real PDF) through `ctx.documents`, the runner's
sink checks and stores it as a task file with `source: portal`, the API lists and serves it to the
owning account only; a print that fails is noted and never fails the task; the sink's limits."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import cast

import pytest
from fastapi.testclient import TestClient
from playwright.async_api import Error as PlaywrightError
from pypdf import PdfReader
from sqlmodel import select

from handlers.context import StepContext
from handlers.documents import DocumentRefused
from handlers.errors import Transient
from handlers.fake import FakePage
from handlers.registry import PortalHandler, StepScript
from runner.core.db import session_scope
from runner.core.files import Upload, UploadLimits
from runner.core.portal_files import PortalFiles
from runner.core.queue import Lease, LeaseLost
from runner.core.states import TaskStatus
from runner.core.system import System
from runner.core.tables import Account, Task, TaskFile, TrajectoryStep
from sops.types import DocumentKind, Outcome
from tests.support.threaded import run_async
from tests.unit.runner.callers import Caller
from tests.unit.runner.scripted import (
    CLAIM_STEPS,
    account_with_login,
    claim,
    claim_data,
    reload,
    run_worker,
)

NUMBER = "FK0000000042"
PDF = b"%PDF-1.4\n%synthetic\n"
Script = Callable[[StepContext], Awaitable[None]]


async def show(ctx: StepContext) -> None:
    await ctx.page.set_content(f"<p>step of task {ctx.task_type}</p>")


async def print_confirmation(ctx: StepContext) -> None:
    await ctx.page.set_content(f"<h1>Claim submitted</h1><p>Claim number <b>{NUMBER}</b></p>")
    ctx.result["claim_number"] = NUMBER
    await ctx.documents.save_page_pdf(ctx.page, filename=f"claim-{NUMBER}-confirmation.pdf")
    ctx.finish(Outcome.COMPLETED)


def portal(**scripts: Script) -> PortalHandler:
    """A fake portal whose steps show a page each, with some replaced."""
    steps: dict[str, StepScript] = {name: show for name in CLAIM_STEPS}
    steps["capture_claim_number"] = print_confirmation
    steps.update(scripts)
    return PortalHandler("fake", "Fake Payer", "fake-1", steps)


def run(system: System, handler: PortalHandler) -> None:
    run_worker(system, _Portal(handler))


class _Portal:
    """What `run_worker` takes of a FakePortal: its key and its handler."""

    key = "fake"

    def __init__(self, handler: PortalHandler) -> None:
        self._handler = handler

    def handler(self, _steps: Sequence[str]) -> PortalHandler:
        return self._handler


def files_of(system: System, task_id: str) -> list[TaskFile]:
    with session_scope(system.engine, readonly=True) as session:
        return list(session.exec(select(TaskFile).where(TaskFile.task_id == task_id)).all())


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_the_printed_confirmation_is_a_portal_task_file_listed_and_served_to_its_account_only(
    system: System, client: TestClient, caller: Caller, other_caller: Caller
) -> None:
    account = _account(system, caller)
    task = claim(system, account)
    run(system, portal())
    assert reload(system, task.id).status == "completed"
    [row] = files_of(system, task.id)
    assert (row.source, row.kind, row.content_type) == ("portal", "confirmation", "application/pdf")
    assert row.filename == f"claim-{NUMBER}-confirmation.pdf"
    content = system.files.read(row.sha256)
    assert content.startswith(b"%PDF-") and row.size == len(content)
    assert NUMBER in pdf_text(content)
    # Only the checked copy in the file store is left: nothing landed stays in the artifacts.
    assert not list((system.settings.data_dir / "artifacts").rglob(".portal-*"))

    public_id = reload(system, task.id).public_id
    shown = client.get(f"/tasks/{public_id}", headers=caller.headers).json()
    assert shown["files"] == [
        {
            "id": row.id,
            "filename": row.filename,
            "content_type": "application/pdf",
            "size": row.size,
            "sha256": row.sha256,
            "source": "portal",
            "kind": "confirmation",
        }
    ]
    listed = client.get("/tasks", headers=caller.headers).json()["data"]
    [in_list] = [t for t in listed if t["id"] == public_id]  # its follow-up is listed above it
    assert in_list["files"] == shown["files"]
    download = client.get(f"/tasks/{public_id}/files/{row.id}", headers=caller.headers)
    assert download.status_code == 200 and download.content == content
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["content-disposition"].startswith("attachment;")
    assert client.get(f"/tasks/{public_id}/files/{row.id}", headers=other_caller.headers).status_code == 404


def test_a_page_that_cannot_be_printed_is_noted_on_the_step_and_the_task_completes(system: System) -> None:
    async def failing_print(ctx: StepContext) -> None:
        cast(FakePage, ctx.page).pdf_error = PlaywrightError("Printing failed")
        await print_confirmation(ctx)

    task = claim(system, account_with_login(system))
    run(system, portal(capture_claim_number=failing_print))
    done = reload(system, task.id)
    assert done.status == "completed" and (done.result or {})["claim_number"] == NUMBER
    assert files_of(system, task.id) == []
    capture = _step(system, done, "capture")
    assert capture.outcome == "ok"
    assert capture.message == "The confirmation could not be printed and kept: Printing failed."


def test_a_document_the_sink_refuses_is_noted_and_leaves_nothing_behind(system: System) -> None:
    async def not_a_pdf(ctx: StepContext) -> None:
        # A page "printed" as something else than a PDF: the sink checks the bytes, not the name.
        cast(FakePage, ctx.page).pdf = _returning(b"\x89PNG\r\n\x1a\n not a pdf")  # type: ignore[method-assign]
        await print_confirmation(ctx)

    task = claim(system, account_with_login(system))
    run(system, portal(capture_claim_number=not_a_pdf))
    done = reload(system, task.id)
    assert done.status == "completed" and files_of(system, task.id) == []
    assert "is named as a PDF file, but its content is not one" in (
        _step(system, done, "capture").message or ""
    )
    assert not list((system.settings.data_dir / "artifacts").rglob(".portal-*"))


def test_attempts_send_the_uploads_only_and_a_retry_copies_the_uploads_only(
    system: System, caller: Caller
) -> None:
    account = _account(system, caller)
    seen: list[list[str]] = []

    async def fill(ctx: StepContext) -> None:
        """The first attempt keeps a page from the portal, then the portal stops answering."""
        seen.append([d.filename for d in ctx.uploads])
        await show(ctx)
        if len(seen) == 1:
            await ctx.documents.save_page_pdf(ctx.page, kind=DocumentKind.DOCUMENT)
            raise Transient("The portal stopped answering.")

    task = system.tasks.create(
        account,
        type="submit_claim",
        data=claim_data(),
        uploads=[Upload("notes.pdf", "application/pdf", PDF)],
        actor="test",
    )
    handler = portal(fill_claim=fill, capture_claim_number=print_confirmation)
    run(system, handler)
    _make_due(system, task.id)
    run(system, handler)
    assert seen == [["notes.pdf"], ["notes.pdf"]]
    kept = sorted((f.source, f.kind) for f in files_of(system, task.id))
    assert kept == [("portal", "confirmation"), ("portal", "document"), ("upload", None)]

    _fail(system, task.id)
    retried = system.tasks.retry(account, task.id, actor="test")
    assert [(f.filename, f.source) for f in files_of(system, retried.id)] == [("notes.pdf", "upload")]


def _returning(content: bytes) -> Callable[..., Awaitable[bytes]]:
    async def pdf(**_: object) -> bytes:
        return content

    return pdf


def _account(system: System, caller: Caller) -> Account:
    account = system.accounts.find(caller.account_id)
    system.credentials.add(
        account.id,
        payer="fake",
        url="http://portal.invalid/fake",
        username="biller",
        password="Canary-Pass-4417!",
        totp_secret=None,
    )
    return account


def _step(system: System, task: Task, step_id: str) -> TrajectoryStep:
    with session_scope(system.engine, readonly=True) as session:
        rows = session.exec(
            select(TrajectoryStep).where(
                TrajectoryStep.trajectory_id == task.trajectory_id, TrajectoryStep.step_id == step_id
            )
        ).all()
    [row] = rows
    return row


def _fail(system: System, task_id: str) -> None:
    with session_scope(system.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.status = TaskStatus.FAILED
        session.add(task)


def _make_due(system: System, task_id: str) -> None:
    with session_scope(system.engine) as session:
        task = session.get(Task, task_id)
        assert task is not None
        task.run_after = None
        session.add(task)


# -- the sink's checks ------------------------------------------------------------------------

LIMITS = UploadLimits(max_file_bytes=1000, max_files=2, max_total_bytes=1500)


@pytest.fixture
def leased(system: System) -> tuple[Lease, Task]:
    claim(system, account_with_login(system))
    [(lease, task)] = system.queue.claim("test-worker", 1)
    return lease, task


def sink(system: System, lease: Lease, folder: Path) -> PortalFiles:
    folder.mkdir(parents=True, exist_ok=True)
    return PortalFiles(system.engine, system.queue, lease, files=system.files, limits=LIMITS, folder=folder)


def land(folder: Path, content: bytes, name: str = ".portal-x-letter.pdf") -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


def keep(target: PortalFiles, path: Path, filename: str = "letter.pdf") -> object:
    return run_async(lambda: target.keep(path, filename=filename, kind=DocumentKind.APPROVAL_LETTER))


def test_the_sink_keeps_a_pdf_once_and_removes_what_landed(
    system: System, leased: tuple[Lease, Task], tmp_path: Path
) -> None:
    lease, task = leased
    target = sink(system, lease, tmp_path / "attempt")
    first = land(target.folder, PDF)
    kept = keep(target, first)
    again = keep(target, land(target.folder, PDF, ".portal-y-letter.pdf"))
    assert kept == again  # the same bytes are one file
    assert not list(target.folder.iterdir())
    [row] = files_of(system, task.id)
    assert (row.source, row.kind, row.filename) == ("portal", "approval_letter", "letter.pdf")


@pytest.mark.parametrize(
    ("content", "filename", "why"),
    [
        (b"%PDF-" + b"x" * 1000, "letter.pdf", "the limit is"),
        (b"<html>an error page</html>\x00", "letter.pdf", "not a supported document"),
        (b"\x89PNG\r\n\x1a\n", "letter.pdf", "is named as a PDF file"),
        (b"", "letter.pdf", "is empty"),
    ],
)
def test_the_sink_refuses_what_an_upload_could_not_be(
    system: System, leased: tuple[Lease, Task], tmp_path: Path, content: bytes, filename: str, why: str
) -> None:
    lease, task = leased
    target = sink(system, lease, tmp_path / "attempt")
    path = land(target.folder, content)
    with pytest.raises(DocumentRefused, match=why):
        keep(target, path, filename)
    assert not path.exists() and files_of(system, task.id) == []


def test_the_sink_takes_files_from_the_tasks_artifact_folder_only(
    system: System, leased: tuple[Lease, Task], tmp_path: Path
) -> None:
    lease, task = leased
    target = sink(system, lease, tmp_path / "attempt")
    elsewhere = land(tmp_path, PDF, "elsewhere.pdf")
    with pytest.raises(DocumentRefused, match="artifact folder"):
        keep(target, elsewhere)
    with pytest.raises(DocumentRefused, match="artifact folder"):
        keep(target, target.folder / ".." / "elsewhere.pdf")
    assert elsewhere.read_bytes() == PDF  # not kept, and not touched either
    assert files_of(system, task.id) == []


def test_the_sink_keeps_at_most_the_upload_limits_per_task(
    system: System, leased: tuple[Lease, Task], tmp_path: Path
) -> None:
    lease, task = leased
    target = sink(system, lease, tmp_path / "attempt")
    keep(target, land(target.folder, PDF + b"1"))
    keep(target, land(target.folder, PDF + b"2"))
    with pytest.raises(DocumentRefused, match="already has 2 documents from the portal"):
        keep(target, land(target.folder, PDF + b"3"))
    assert len(files_of(system, task.id)) == 2


def test_a_name_without_a_document_type_gets_the_contents(
    system: System, leased: tuple[Lease, Task], tmp_path: Path
) -> None:
    lease, task = leased
    target = sink(system, lease, tmp_path / "attempt")
    keep(target, land(target.folder, PDF), "EOB 2026-11")
    keep(target, land(target.folder, b"<p>remittance</p>"), "remit.html")
    names = sorted((f.filename, f.content_type) for f in files_of(system, task.id))
    assert names == [("EOB 2026-11.pdf", "application/pdf"), ("remit.html.txt", "text/plain")]


def test_a_sink_whose_lease_is_lost_stops_the_attempt(
    system: System, leased: tuple[Lease, Task], tmp_path: Path
) -> None:
    lease, task = leased
    target = sink(system, Lease(lease.task_id, lease.owner, lease.token + 1), tmp_path / "attempt")
    path = land(target.folder, PDF)
    with pytest.raises(LeaseLost):
        keep(target, path)
    assert not path.exists() and files_of(system, task.id) == []


def test_rows_stored_without_a_source_read_as_uploads(system: System, leased: tuple[Lease, Task]) -> None:
    _lease, task = leased
    with system.engine.begin() as connection:  # as a row from before migration 0011
        connection.exec_driver_sql(
            "INSERT INTO task_files (id, task_id, account_id, filename, content_type, size, sha256, "
            "created_at) VALUES ('old-file', %s, %s, 'old.pdf', 'application/pdf', 3, %s, %s)"
            if system.engine.dialect.name == "postgresql"
            else "INSERT INTO task_files (id, task_id, account_id, filename, content_type, size, sha256, "
            "created_at) VALUES ('old-file', ?, ?, 'old.pdf', 'application/pdf', 3, ?, ?)",
            (task.id, task.account_id, "0" * 64, "2026-01-01 00:00:00"),
        )
    [row] = files_of(system, task.id)
    assert (row.source, row.kind) == ("upload", None)
