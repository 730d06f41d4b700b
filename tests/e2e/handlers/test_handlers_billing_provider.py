"""Beacon bills for the organization the session acts for (issue 15 item 14): a claim whose
billing provider the exchange will not take waits for input naming the field, in words a
billing clerk can act on, and completes once corrected. Nothing reaches the payer meanwhile.

Why waiting_for_input, not failed (DESIGN.md §2): the exchange refuses the form before anything
is sent (no trace number, no claim), so the job can still be done once the task's data is
right: a corrected NPI or tax ID, or the same data again after the exchange adds the provider
to the organization (an empty `/input` reruns it). `failed` is for what the payer decided.
"""

from __future__ import annotations

from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic

NOT_OFFERED = "2000000028"  # a valid NPI that none of the mock's organizations has
RIVERSIDE = "2123456784"  # Riverside Mock Orthopedics, TIN 45-2345678 (not the task's 12-3456789)


def test_a_billing_npi_the_login_cannot_act_for_waits_naming_it(clinic: Clinic) -> None:
    clinic.add_login("beacon")
    data = task_data.claim("beacon").replace("billing npi: 2000000010", f"billing npi: {NOT_OFFERED}")
    task = clinic.create("submit_claim", data)
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "waiting_for_input", waiting.notes
    assert [p["field"] for p in waiting.problems] == ["billing_npi"]
    notes = waiting.notes or ""
    assert f"billing NPI {NOT_OFFERED} is not a provider this Beacon Exchange login can act for" in notes
    assert "2000000010" in notes and "correct the billing NPI" in notes
    assert waiting.submit_attempted_at is None and clinic.portal.submissions(kind="claim") == []

    clinic.supply(task.id, "billing npi: 2000000010")
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    [sent] = clinic.portal.submissions(payer="beacon", kind="claim")
    assert sent["fields"]["billing_npi"] == "2000000010"


def test_the_exchange_refusing_the_billing_provider_waits_naming_the_field(clinic: Clinic) -> None:
    """The context follows the billing NPI (Riverside); the task's tax ID is another
    organization's, and the exchange refuses the form at the submit with its own message."""
    clinic.add_login("beacon")
    data = task_data.claim("beacon").replace("billing npi: 2000000010", f"billing npi: {RIVERSIDE}")
    task = clinic.create("submit_claim", data)
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "waiting_for_input", waiting.notes
    assert [p["field"] for p in waiting.problems] == ["tax_id"]
    assert (
        "Billing Tax ID 12-3456789 does not match the selected organization, Riverside Mock "
        "Orthopedics (TIN 45-2345678)" in (waiting.notes or "")
    )
    assert clinic.portal.submissions(kind="claim") == []

    clinic.supply(task.id, "tax id: 45-2345678")
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    [sent] = clinic.portal.submissions(payer="beacon", kind="claim")
    assert (sent["fields"]["billing_npi"], sent["fields"]["tax_id"]) == (RIVERSIDE, "452345678")
