"""The task page lists the documents kept from the portal apart from the uploads, with their kind,
and serves them to the task's account only."""

from __future__ import annotations

from runner.core.db import session_scope
from runner.core.files import Upload
from runner.core.operators import Role
from runner.core.states import FileSource
from runner.core.system import System
from runner.core.tables import Account, TaskFile
from sops.types import DocumentKind
from tests.unit.console.conftest import claim_data
from tests.unit.console.signed import Person, person

PDF = b"%PDF-1.4\n%confirmation FK0000000042\n"


def test_portal_documents_are_listed_apart_with_their_kind_and_served_to_the_account_only(
    system: System, reviewer: Person, clinic: Account, other_clinic: Account
) -> None:
    upload = Upload("referral.pdf", "application/pdf", b"%PDF-1.4\n%referral\n")
    task = system.tasks.create(
        clinic, type="submit_claim", data=claim_data(), uploads=[upload], actor="api:k"
    )
    kept = Upload("claim-FK0000000042-confirmation.pdf", "application/pdf", PDF)
    system.files.put(kept)
    row = TaskFile(
        task_id=task.id,
        account_id=clinic.id,
        filename=kept.filename,
        content_type=kept.content_type,
        size=len(PDF),
        sha256=kept.sha256,
        source=FileSource.PORTAL,
        kind=DocumentKind.CONFIRMATION,
    )
    with session_scope(system.engine) as session:
        session.add(row)

    page = reviewer.get(f"/tasks/{task.public_id}").text
    sent, _, from_portal = page.partition("From the portal")
    assert "Sent with the task" in sent and "referral.pdf" in sent and kept.filename not in sent
    assert kept.filename in from_portal and ">confirmation</span>" in from_portal
    assert reviewer.get(f"/tasks/{task.public_id}/files/{row.id}").content == PDF

    stranger = person(system, other_clinic.id, "olga@example.test", Role.REVIEWER)
    assert stranger.sign_in().status_code == 303
    assert stranger.get(f"/tasks/{task.public_id}/files/{row.id}").status_code == 404
