"""Rendering: every library SOP against its fixture, placeholders, StrictUndefined, outcomes, review."""

from __future__ import annotations

from typing import Any

import pytest

from sops.dataformat import parse_data
from sops.errors import SopError
from sops.inputs import check_inputs
from sops.loader import SopLibrary, load_sop_text
from sops.render import render_outcome, render_task, review_required
from sops.results import RESULTS
from sops.types import TaskType
from tests.unit.sops.support import SERENE_EXAMPLE, TODAY, fixture_text

TITLES = {
    TaskType.CHECK_ELIGIBILITY: "Check eligibility #7",
    TaskType.SUBMIT_CLAIM: "Submit claim #7",
    TaskType.SUBMIT_PRIOR_AUTHORIZATION: "Submit prior authorization #7",
    TaskType.SUBMIT_APPEAL: "Submit appeal #7",
    TaskType.CHECK_CLAIM_STATUS: "Check claim status #7",
    TaskType.CHECK_AUTHORIZATION_STATUS: "Check authorization status #7",
}
SAMPLE_RESULTS: dict[TaskType, dict[str, dict[str, Any]]] = {
    TaskType.CHECK_ELIGIBILITY: {
        "completed": {
            "coverage_status": "active",
            "plan_name": "Acme Gold PPO",
            "reference_number": "123456789",
        },
        "completed_with_issues": {
            "coverage_status": "inactive",
            "payer_message": "Coverage ended 2026-06-30",
        },
        "failed": {"failure_reason": "the payer could not find this member (AAA 75)", "rejection_code": "75"},
    },
    TaskType.SUBMIT_CLAIM: {
        "completed": {"claim_number": "PA-2025-03-1842", "claim_status": "accepted"},
        "completed_with_issues": {"duplicate_of": "2026110200123", "claim_status": "duplicate"},
        "failed": {
            "rejection_reasons": ["Invalid member ID", "Missing modifier"],
            "claim_status": "rejected",
        },
    },
    TaskType.SUBMIT_PRIOR_AUTHORIZATION: {
        "completed": {
            "decision": "approved",
            "certification_number": "AUTH-77812",
            "effective_date": "2026-12-15",
            "expiration_date": "2027-03-15",
        },
        "completed_with_issues": {"decision": "pended", "reference_number": "REF-5521"},
        "failed": {"failure_reason": "the portal refused the login"},
    },
    TaskType.SUBMIT_APPEAL: {
        "completed": {"tracking_number": "APL-889120"},
        "completed_with_issues": {},
        "failed": {"failure_reason": "only a denied claim can be appealed"},
    },
    TaskType.CHECK_CLAIM_STATUS: {
        "completed": {
            "claim_number": "2026110200123",
            "status_category": "finalized_paid",
            "claim_status": "Finalized - Paid",
            "paid_amount": "98.40",
            "paid_date": "2026-11-20",
            "payment_method": "eft",
            "payment_number": "EFT884120",
        },
        "completed_with_issues": {
            "claim_number": "2026110200123",
            "status_category": "finalized_denied",
            "adjustment_codes": ["CO-50"],
            "adjustment_reasons": [
                "CO-50: These are non-covered services because this is not deemed a medical necessity"
            ],
            "denial_reason": "Not medically necessary",
        },
        "failed": {"failure_reason": "Acme Health refused the login"},
    },
    TaskType.CHECK_AUTHORIZATION_STATUS: {
        "completed": {
            "decision": "approved",
            "decision_code": "A1",
            "certification_number": "AUTH-77812",
            "approved_units": 12,
            "effective_date": "2026-12-15",
            "expiration_date": "2027-03-15",
            "decision_date": "2026-12-01",
        },
        "completed_with_issues": {
            "decision": "denied",
            "decision_code": "A3",
            "denial_reason": "Not medically necessary",
        },
        "failed": {"failure_reason": "Acme Health refused the login"},
    },
}
EXPECTED_OUTCOMES = {
    (TaskType.CHECK_ELIGIBILITY, "completed"): "Coverage is active (Acme Gold PPO); reference 123456789.",
    (TaskType.CHECK_ELIGIBILITY, "completed_with_issues"): "Coverage is inactive: Coverage ended 2026-06-30.",
    (
        TaskType.CHECK_ELIGIBILITY,
        "failed",
    ): "Eligibility could not be checked: the payer could not find this member (AAA 75).",
    (TaskType.SUBMIT_CLAIM, "completed"): "Claim submitted with reference PA-2025-03-1842.",
    (
        TaskType.SUBMIT_CLAIM,
        "completed_with_issues",
    ): "The payer already has this claim as 2026110200123; it was not submitted again.",
    (
        TaskType.SUBMIT_CLAIM,
        "failed",
    ): (
        "Claim submitted and rejected by the payer's front-end edits: Invalid member ID; Missing modifier. "
        "Correct it and submit it again as a new claim."
    ),
    (
        TaskType.SUBMIT_PRIOR_AUTHORIZATION,
        "completed",
    ): "Prior authorization approved, number AUTH-77812, valid 2026-12-15 to 2027-03-15.",
    (
        TaskType.SUBMIT_PRIOR_AUTHORIZATION,
        "completed_with_issues",
    ): "Prior authorization pended (reference REF-5521).",
    (
        TaskType.SUBMIT_PRIOR_AUTHORIZATION,
        "failed",
    ): "Prior authorization not submitted: the portal refused the login.",
    (
        TaskType.SUBMIT_APPEAL,
        "completed",
    ): "Appeal filed for claim 2026110200123 with tracking number APL-889120.",
    (
        TaskType.SUBMIT_APPEAL,
        "completed_with_issues",
    ): "Appeal filed for claim 2026110200123 but the portal gave no tracking number.",
    (TaskType.SUBMIT_APPEAL, "failed"): "Appeal not filed: only a denied claim can be appealed.",
    (
        TaskType.CHECK_CLAIM_STATUS,
        "completed",
    ): "Claim 2026110200123 was paid $98.40 on 2026-11-20 by EFT EFT884120.",
    (
        TaskType.CHECK_CLAIM_STATUS,
        "completed_with_issues",
    ): "Claim 2026110200123 was denied (CO-50): Not medically necessary. Correct it or appeal.",
    (
        TaskType.CHECK_CLAIM_STATUS,
        "failed",
    ): "The claim's status could not be checked: Acme Health refused the login.",
    (
        TaskType.CHECK_AUTHORIZATION_STATUS,
        "completed",
    ): "Prior authorization approved, number AUTH-77812, 12 units, valid 2026-12-15 to 2027-03-15.",
    (
        TaskType.CHECK_AUTHORIZATION_STATUS,
        "completed_with_issues",
    ): "Prior authorization denied: Not medically necessary.",
    (
        TaskType.CHECK_AUTHORIZATION_STATUS,
        "failed",
    ): "The authorization's status could not be checked: Acme Health refused the login.",
}


def fixture_fields(task_type: TaskType) -> dict[str, Any]:
    checked = check_inputs(task_type, parse_data(fixture_text(task_type)), today=TODAY)
    assert checked.ok, checked.note
    return checked.fields


@pytest.mark.parametrize("task_type", list(TaskType))
def test_every_library_sop_renders_against_its_fixture(library: SopLibrary, task_type: TaskType) -> None:
    sop = library.get(task_type)
    rendered = render_task(sop, task_number=7, fields=fixture_fields(task_type), portal_name="Acme Health")
    assert rendered.handler == f"{task_type.value}_1"
    assert rendered.title == TITLES[task_type]
    assert rendered.instructions.startswith("SOP: Log in to the Acme Health provider portal. ")
    assert "[" not in rendered.instructions
    assert "None" not in rendered.instructions
    assert rendered.instructions.endswith(".")
    assert "  " not in rendered.instructions


@pytest.mark.parametrize(("task_type", "outcome"), list(EXPECTED_OUTCOMES))
def test_every_outcome_renders_a_sentence(library: SopLibrary, task_type: TaskType, outcome: str) -> None:
    result = SAMPLE_RESULTS[task_type][outcome]
    RESULTS[task_type].model_validate(result)  # the samples use the documented result keys
    note = render_outcome(
        library.get(task_type), outcome, fields=fixture_fields(task_type), result=result, task_number=7
    )
    assert note == EXPECTED_OUTCOMES[task_type, outcome]


def test_claim_instructions_read_as_prose(library: SopLibrary) -> None:
    rendered = render_task(
        library.get(TaskType.SUBMIT_CLAIM),
        task_number=12,
        fields=fixture_fields(TaskType.SUBMIT_CLAIM),
        portal_name="Acme Health",
    )
    assert rendered.instructions == (
        "SOP: Log in to the Acme Health provider portal. Open the professional claim form. "
        "Enter member TST100200300 and the patient, billing provider 2000000010 (tax ID 123456789), "
        "diagnoses E11.9, I10, M54.50 and the procedure lines totalling $320.50. Submit the claim. "
        "Capture the claim number from the confirmation page."
    )


def test_incomplete_fields_render_with_visible_placeholders(library: SopLibrary) -> None:
    raw = parse_data(SERENE_EXAMPLE)
    rendered = render_task(library.get(TaskType.SUBMIT_CLAIM), task_number=1, fields=raw)
    assert rendered.title == "Submit claim #1"
    assert "Log in to the payer's provider portal." in rendered.instructions
    assert (
        "billing provider [billing NPI] (tax ID [tax ID (EIN)]), diagnoses [diagnosis codes]"
        in rendered.instructions
    )


def test_a_loop_over_missing_lines_shows_the_placeholder() -> None:
    sop = load_sop_text(
        _claim_sop('"Lines: {% for l in fields.service_lines %}{{ l.procedure_code }}{% endfor %}"'),
        source="t.yaml",
    )
    rendered = render_task(sop, task_number=1, fields={})
    assert rendered.instructions == "SOP: Lines: [service lines]."


def test_a_misspelt_name_is_an_error_at_render_time_even_inside_loops() -> None:
    sop = load_sop_text(
        _claim_sop('"{% for l in fields.service_lines %}{{ l.procedure_cod }}{% endfor %}"'), source="t.yaml"
    )
    with pytest.raises(SopError) as caught:
        render_task(sop, task_number=1, fields=fixture_fields(TaskType.SUBMIT_CLAIM))
    assert caught.value.field == "steps.0.say"
    assert "procedure_cod" in caught.value.message


def test_values_are_data_never_template_code(library: SopLibrary) -> None:
    fields = {"member_id": "{{ 7*7 }}{% raise %}", "billing_npi": "<script>"}
    rendered = render_task(library.get(TaskType.SUBMIT_CLAIM), task_number=1, fields=fields)
    assert "member {{ 7*7 }}{% raise %} and" in rendered.instructions
    assert "<script>" in rendered.instructions  # plain text, not HTML: no escaping, no execution


def test_the_sandbox_refuses_unsafe_attribute_access() -> None:
    sop = load_sop_text(_claim_sop('"{{ fields.member_id.__class__.__mro__ }}"'), source="t.yaml")
    with pytest.raises(SopError):
        render_task(sop, task_number=1, fields={"member_id": "A1"})


@pytest.mark.parametrize(("total", "expected"), [("5000.01", True), ("5000.00", False), ("125.00", False)])
def test_claim_review_gate_compares_money_as_numbers(library: SopLibrary, total: str, expected: bool) -> None:
    submit = next(step for step in library.get(TaskType.SUBMIT_CLAIM).steps if step.irreversible)
    assert review_required(submit, fields={"total_charge": total}) is expected


def test_steps_without_review_never_gate_and_bad_reviews_are_sop_errors(library: SopLibrary) -> None:
    login = library.get(TaskType.SUBMIT_CLAIM).steps[0]
    assert review_required(login, fields={}) is False
    sop = load_sop_text(_claim_sop('"x"', review='"{{ fields.payer }}"'), source="t.yaml")
    with pytest.raises(SopError, match="true or false"):
        review_required(sop.steps[0], fields={"payer": "Acme"})


def test_unknown_outcome_is_an_error(library: SopLibrary) -> None:
    with pytest.raises(SopError, match="not a final state"):
        render_outcome(library.get(TaskType.SUBMIT_CLAIM), "running", fields={}, result={}, task_number=1)


def _claim_sop(say: str, review: str | None = None) -> str:
    review_line = f"\n    review: {review}" if review else ""
    return f"""\
type: submit_claim
version: 3
title: "Claim #{{{{ task.task_number }}}}"
inputs:
  required: [member_id, patient_first_name, patient_last_name, date_of_birth, payer, billing_npi, tax_id,
             diagnosis_codes, service_lines]
steps:
  - id: only
    say: {say}
    do: fill_claim{review_line}
outcomes: {{completed: "ok", completed_with_issues: "hm", failed: "no"}}
"""


def test_a_rejected_claim_says_it_was_submitted_and_rejected(library: SopLibrary) -> None:
    result = {
        "claim_status": "rejected",
        "rejection_reasons": ["Member not eligible on the date of service"],
        "reference_number": "TRC-0042",
        "failure_reason": "Acme Health rejected the claim (Member not eligible on the date of service)",
    }
    note = render_outcome(
        library.get(TaskType.SUBMIT_CLAIM), "failed", fields={}, result=result, task_number=3
    )
    assert note == (
        "Claim submitted and rejected by the payer's front-end edits (trace number TRC-0042): Member not "
        "eligible on the date of service. Correct it and submit it again as a new claim."
    )
    unsent = render_outcome(
        library.get(TaskType.SUBMIT_CLAIM),
        "failed",
        fields={},
        result={"failure_reason": "Acme Health refused the login"},
        task_number=3,
    )
    assert unsent == "Claim not submitted: Acme Health refused the login."


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (
            {"status_category": "not_found"},
            "The payer has no claim matching this search: a claim sent in the last few days may not show "
            "yet; otherwise check the search or send the claim again.",
        ),
        (
            {"status_category": "pending", "claim_number": "C-1", "claim_status": "In process"},
            "Claim C-1 is not finalized yet: In process.",
        ),
        ({"status_category": "acknowledged"}, "Claim is not finalized yet: acknowledged."),
    ],
)
def test_claim_status_issues_say_where_the_claim_stands(
    library: SopLibrary, result: dict[str, Any], expected: str
) -> None:
    sop = library.get(TaskType.CHECK_CLAIM_STATUS)
    assert render_outcome(sop, "completed_with_issues", fields={}, result=result, task_number=1) == expected


def test_an_authorization_not_found_says_so(library: SopLibrary) -> None:
    sop = library.get(TaskType.CHECK_AUTHORIZATION_STATUS)
    note = render_outcome(
        sop, "completed_with_issues", fields={}, result={"payer_message": "No request found"}, task_number=1
    )
    assert note == (
        "The payer has no authorization request matching this search (No request found): a request sent "
        "in the last few days may not show yet; otherwise check the search."
    )


def test_status_checks_by_number_say_only_the_number(library: SopLibrary) -> None:
    claim = render_task(
        library.get(TaskType.CHECK_CLAIM_STATUS),
        task_number=2,
        fields={"payer": "Acme Health", "claim_number": "2026110200123"},
        portal_name="Acme Health",
    )
    assert "Search for claim 2026110200123." in claim.instructions
    auth = render_task(
        library.get(TaskType.CHECK_AUTHORIZATION_STATUS),
        task_number=2,
        fields={"payer": "Acme Health", "certification_number": "AUTH-77812"},
        portal_name="Acme Health",
    )
    assert "Search for authorization AUTH-77812." in auth.instructions
