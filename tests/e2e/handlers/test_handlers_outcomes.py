"""Business outcomes the payers decide, on both portals: the task's final state, its note and
its structured result (member not found, inactive coverage, a DOB the payer does not match,
rejected and duplicate claims, pended / partial / denied authorizations, appeals refused)."""

from __future__ import annotations

from tests.e2e.handlers import task_data
from tests.e2e.handlers.conftest import Clinic


def test_member_not_found_fails_with_a_plain_reason(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("check_eligibility", task_data.eligibility(payer, task_data.NOBODY))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "failed", done.notes
    result = done.result or {}
    assert result["rejection_code"] == "75"
    assert "no member with this ID" in result["failure_reason"]
    assert done.notes == f"Eligibility could not be checked: {result['failure_reason']}."


def test_payer_unavailable_is_retried_later(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("check_eligibility", task_data.eligibility(payer, task_data.UNAVAILABLE))
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "pending", waiting.notes
    assert "AAA 42" in (waiting.notes or "") and "retrying" in (waiting.notes or "")
    assert waiting.run_after is not None


def test_inactive_coverage_is_completed_with_issues(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("check_eligibility", task_data.eligibility(payer, task_data.INACTIVE))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed_with_issues", done.notes
    result = done.result or {}
    assert result["coverage_status"] == "inactive"
    assert result["plan_name"] == "Acme Silver HMO (Synthetic)"
    assert "copay" not in result
    assert (done.notes or "").startswith("Coverage is inactive")


def test_dob_mismatch_waits_for_input_then_completes(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    wrong = task_data.Member("SYN100001", "Ada", "Testmember", "1980-04-21")
    task = clinic.create("check_eligibility", task_data.eligibility(payer, wrong))
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "waiting_for_input", waiting.notes
    assert [p["field"] for p in waiting.problems] == ["date_of_birth"]
    assert "does not match" in (waiting.notes or "") and "AAA 71" in (waiting.notes or "")

    clinic.supply(task.id, "date of birth: 1980-04-12")
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    first, second = clinic.portal.submissions(payer=payer, kind="eligibility")
    assert (first["outcome"], first["fields"]["date_of_birth"]) == ("dob_mismatch", "1980-04-21")
    assert (second["outcome"], second["fields"]["date_of_birth"]) == ("active", "1980-04-12")


def test_rejected_claim_fails_with_the_payers_reasons(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_claim", task_data.claim(payer, task_data.REJECTED))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "failed", done.notes
    result = done.result or {}
    assert result["claim_status"] == "rejected" and "claim_number" not in result
    assert any("A7:562" in reason for reason in result["rejection_reasons"])
    # The payer received it (a trace number) and refused it: the note must not say "not submitted".
    trace = result["reference_number"]
    assert (done.notes or "").startswith(
        f"Claim submitted and rejected by the payer's front-end edits (trace number {trace})"
    )
    [sent] = clinic.portal.submissions(payer=payer, kind="claim")
    assert sent["outcome"] == "rejected" and sent["identifiers"]["trace_number"] == result["reference_number"]


def test_duplicate_claim_is_not_submitted_again(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    first = clinic.create("submit_claim", task_data.claim(payer))
    clinic.run()
    number = (clinic.get(first.id).result or {})["claim_number"]
    second = clinic.create("submit_claim", task_data.claim(payer))
    clinic.run()
    done = clinic.get(second.id)
    assert done.status == "completed_with_issues", done.notes
    result = done.result or {}
    assert result["duplicate_of"] == number and result["claim_status"] == "duplicate"
    assert done.notes == f"The payer already has this claim as {number}; it was not submitted again."
    accepted = [s for s in clinic.portal.submissions(payer=payer, kind="claim") if s["outcome"] == "accepted"]
    assert len(accepted) == 1  # Acme records its hard block; Beacon's soft warning records nothing


def test_pended_authorization_is_decided_on_a_later_poll(clinic: Clinic) -> None:
    # The SOP's short look at the decision: two lookups (a payer that decides within seconds is
    # reported at once); a request pended longer is left to the follow-up task.
    clinic.add_login("acme")
    clinic.portal.set_knobs(pended_polls=2, pended_minutes=0)
    task = clinic.create("submit_prior_authorization", task_data.authorization("acme", task_data.AUTH_PENDED))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed", done.notes
    result = done.result or {}
    assert result["decision"] == "approved" and result["certification_number"].startswith("PA-")
    [sent] = clinic.portal.submissions(payer="acme", kind="prior_auth")
    assert sent["outcome"] == "pended"  # the answer at submit time; decided by the later looks


def test_pended_until_the_last_poll_needs_a_look(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    clinic.portal.set_knobs(pended_polls=100, pended_minutes=0)
    task = clinic.create("submit_prior_authorization", task_data.authorization(payer, task_data.AUTH_PENDED))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed_with_issues", done.notes
    result = done.result or {}
    assert result["decision"] == "pended" and result["decision_code"] == "A4"
    assert done.notes == f"Prior authorization pended (reference {result['reference_number']})."


def test_denied_authorization(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_prior_authorization", task_data.authorization(payer, task_data.AUTH_DENIED))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed_with_issues", done.notes
    result = done.result or {}
    assert result["decision"] == "denied" and result["decision_code"] == "A3"
    assert "Not medically necessary" in result["denial_reason"]
    assert "certification_number" not in result
    assert (done.notes or "").startswith("Prior authorization denied")


def test_partially_approved_authorization(clinic: Clinic) -> None:
    clinic.add_login("acme")
    task = clinic.create(
        "submit_prior_authorization", task_data.authorization("acme", task_data.AUTH_PARTIAL)
    )
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed_with_issues", done.notes
    result = done.result or {}
    assert (
        result["decision"] == "partially_approved" and result["approved_units"] == 7
    )  # 12 visits -> 6, 1 unit -> 1
    assert result["certification_number"].startswith("PA-")


def test_paid_claim_cannot_be_appealed(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_appeal", task_data.appeal(payer, task_data.PAID_CLAIM[payer]))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "failed", done.notes
    assert "only a denied claim" in (done.result or {})["failure_reason"]
    assert clinic.portal.submissions(payer=payer, kind="appeal") == []
    assert done.submit_attempted_at is None


def test_appeal_already_on_file_is_not_filed_again(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create("submit_appeal", task_data.appeal(payer, task_data.APPEALED_CLAIM[payer]))
    clinic.run()
    done = clinic.get(task.id)
    assert done.status == "completed_with_issues", done.notes
    result = done.result or {}
    assert "already on file" in result["payer_message"]
    if payer == "acme":
        assert result["tracking_number"] == "APL-2026-000017" and result["appeal_status"] == "in_review"
    assert clinic.portal.submissions(payer=payer, kind="appeal") == []


def test_place_of_service_the_portal_does_not_offer_asks_for_input(clinic: Clinic, payer: str) -> None:
    clinic.add_login(payer)
    task = clinic.create(
        "submit_claim", task_data.claim(payer).replace("place of service: 11", "place of service: 99")
    )
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "waiting_for_input", waiting.notes
    assert [p["field"] for p in waiting.problems] == ["service_lines"]
    assert waiting.submit_attempted_at is None


def test_exchange_task_must_name_the_health_plan(clinic: Clinic) -> None:
    clinic.add_login("beacon")
    task = clinic.create(
        "check_eligibility",
        task_data.eligibility("beacon").replace(
            "payer: Beacon Exchange / Acme Health", "payer: Beacon Exchange"
        ),
    )
    clinic.run()
    waiting = clinic.get(task.id)
    assert waiting.status == "waiting_for_input", waiting.notes
    assert [p["field"] for p in waiting.problems] == ["payer"]
    assert clinic.portal.submissions() == []
