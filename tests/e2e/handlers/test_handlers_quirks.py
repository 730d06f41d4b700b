"""Portal quirks the scripts handle: Beacon's provider context follows the task's NPI (also on a
reused session), uploads the portal refuses come back as input problems per file, and Acme's
masked date of birth works whether the mask is on or off."""

from __future__ import annotations

from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic


def test_beacon_context_follows_the_tasks_provider(clinic: Clinic) -> None:
    clinic.add_login("beacon")
    first = clinic.create("check_eligibility", task_data.eligibility("beacon", npi="2000000002"))
    clinic.run()
    second = clinic.create("check_eligibility", task_data.eligibility("beacon", npi="2123456784"))
    clinic.run()  # the stored session acts for 2000000002: the script changes the context
    assert clinic.get(first.id).status == clinic.get(second.id).status == "completed"
    sent = [
        s["fields"]["provider_npi"] for s in clinic.portal.submissions(payer="beacon", kind="eligibility")
    ]
    assert sent == ["2000000002", "2123456784"]


def test_files_the_portal_refuses_come_back_per_file(clinic: Clinic) -> None:
    clinic.add_login("acme")
    clinic.portal.set_knobs(upload_max_file_bytes=1450)
    task = clinic.create(
        "submit_prior_authorization",
        task_data.authorization("acme"),
        files=("clinical_notes.pdf", "appeal_letter.pdf", "medical_records.pdf"),
    )
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "waiting_for_input", waiting.notes
    assert {p["field"] for p in waiting.problems} == {"files"}
    # 1540 and 1500 bytes are over the limit; medical_records.pdf (1387) was taken.
    assert [p["message"].split(":")[0] for p in waiting.problems] == [
        "clinical_notes.pdf",
        "appeal_letter.pdf",
    ]
    assert all("larger than" in p["message"] for p in waiting.problems)
    assert waiting.submit_attempted_at is None and clinic.portal.submissions(kind="prior_auth") == []


def test_file_types_the_portal_does_not_take_are_refused_before_the_submit(
    clinic: Clinic, payer: str
) -> None:
    clinic.add_login(payer)
    clinic.portal.set_knobs(upload_extensions=["jpg", "png"])
    task = clinic.create("submit_appeal", task_data.appeal(payer), files=("appeal_letter.pdf",))
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "waiting_for_input", waiting.notes
    assert waiting.problems == [
        {"field": "files", "message": "appeal_letter.pdf: the portal accepts only jpg, png files."}
    ]
    assert waiting.submit_attempted_at is None and clinic.portal.submissions(kind="appeal") == []


def test_unmasked_date_of_birth_input(clinic: Clinic) -> None:
    clinic.add_login("acme")
    clinic.portal.set_knobs(masked_date_input=False)
    task = clinic.create("check_eligibility", task_data.eligibility("acme"))
    clinic.run()
    assert clinic.get(task.id).status == "completed"
    [sent] = clinic.portal.submissions(payer="acme", kind="eligibility")
    assert sent["fields"]["date_of_birth"] == task_data.HAPPY.dob
