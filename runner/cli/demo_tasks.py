"""The demo's sample tasks: every task type on both mock payers, with the outcome each should reach.

Member ids are the mock portal's magic ids (mock_portal/README.md); dates are relative to today so
the claims are within timely filing and the authorizations are in the future. Two samples are
followed up to the payer's decision (`Follow`): the demo advances the mock portal's clock past it
and asks for the check now, so what takes days takes seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

ACME = "Acme Health"
BEACON = "Bluebird Health Plan"  # an insurer reached through the Beacon Exchange

ADA = "member_id: SYN100001\npatient: Ada Testmember\nDOB: 1980-04-12"
BEN = "member_id: SYN100002\npatient: Ben Inactiveton\nDOB: 1975-09-30"
HAL = "member_id: SYN100022\npatient: Hal Pendedapprove\nDOB: 1972-03-03"
KAI = "member_id: SYN100030\npatient: Kai Appealpatient\nDOB: 1988-05-17"


@dataclass(frozen=True)
class Follow:
    """The demo waits for this sample's follow-up: once the parent is final it advances the portal
    clock by `advance_seconds`, asks for the check now, and expects the follow-up to end `completed`
    with `result[key] == value`."""

    key: str
    value: str
    advance_seconds: int


# Portal clock (mock_portal/README.md, Status lookups): a pended auth is decided after
# `pended_minutes` (the demo keeps 30); a claim moves one stage per `claim_stage_minutes` (60), so
# two hours (and a minute) later it is finalized.
AUTH_DECIDED = Follow("decision", "approved", 31 * 60)
CLAIM_PAID = Follow("status_category", "finalized_paid", 2 * 3600 + 60)


@dataclass(frozen=True)
class DemoTask:
    label: str
    type: str
    payer: str
    data: str
    expect: frozenset[str]
    # A person's part: data sent with POST /tasks/{id}/input, or a review approval.
    input_later: str | None = None
    approve: bool = False
    files: tuple[str, ...] = field(default=())
    # Wait for the follow-up task this one creates, and expect it to end so. Other samples'
    # follow-ups (days away) are shown but not waited for.
    follow: Follow | None = None


def _claim(member: str, payer: str, day: date, lines: str) -> str:
    return f"{member}\npayer: {payer}\nservice date: {day.isoformat()}\ndiagnosis: E11.9, I10\n{lines}"


def demo_tasks(today: date) -> list[DemoTask]:
    yesterday = today - timedelta(days=1)
    start = today + timedelta(days=14)
    done = {"completed"}
    issues = {"completed_with_issues"}
    return [
        DemoTask(
            "eligibility, active", "check_eligibility", "acme", f"{ADA}\npayer: {ACME}", frozenset(done)
        ),
        DemoTask(
            "eligibility, inactive", "check_eligibility", "acme", f"{BEN}\npayer: {ACME}", frozenset(issues)
        ),
        DemoTask(
            "eligibility, DOB supplied later",
            "check_eligibility",
            "acme",
            f"member_id: SYN100001\npatient: Ada Testmember\npayer: {ACME}",
            frozenset(done),
            input_later="DOB: 1980-04-12",
        ),
        DemoTask(
            "claim",
            "submit_claim",
            "acme",
            _claim(ADA, ACME, yesterday, "service line: cpt=99213, units=1, charge=125.00, pointers=AB"),
            frozenset(done),
            follow=CLAIM_PAID,
        ),
        DemoTask(
            "prior auth, pended, then approved by its follow-up",
            "submit_prior_authorization",
            "acme",
            f"{HAL}\npayer: {ACME}\nrequesting npi: 2000000002\nservicing npi: 2999999990\n"
            f"diagnosis: M54.50\nprocedure: cpt=72148, units=1\nservice from: {start.isoformat()}\n"
            "place of service: 22\nclinical notes: Synthetic demo request.",
            frozenset(issues),  # pended: the payer decides later, its follow-up finds out
            files=("fixtures/documents/clinical_notes.pdf",),
            follow=AUTH_DECIDED,
        ),
        DemoTask(
            "appeal of a denied claim",
            "submit_appeal",
            "acme",
            f"{KAI}\npayer: {ACME}\nclaim number: 2600100000101\n"
            f"service date: {(today - timedelta(days=45)).isoformat()}\nreason category: medical necessity\n"
            "reason: Synthetic demo: notes attached show medical necessity.\ncontact: Sam Placeholder\n"
            "phone: 555-201-0100",
            frozenset(done),
        ),
        DemoTask(
            "claim status, paid (by claim number)",
            "check_claim_status",
            "acme",
            f"payer: {ACME}\nclaim number: 2600100000102",
            frozenset(done),
        ),
        DemoTask("eligibility", "check_eligibility", "beacon", f"{ADA}\npayer: {BEACON}", frozenset(done)),
        DemoTask(
            "claim over $5,000, reviewed",
            "submit_claim",
            "beacon",
            _claim(ADA, BEACON, yesterday, "service line: cpt=27447, units=1, charge=5400.00, pointers=A"),
            frozenset(done),
            approve=True,
        ),
        DemoTask(
            "prior auth",
            "submit_prior_authorization",
            "beacon",
            f"{ADA}\npayer: {BEACON}\nrequesting npi: 2000000002\nservicing npi: 2999999990\n"
            f"diagnosis: M54.50\nprocedure: cpt=97110, units=12, unit_type=visits\n"
            f"service from: {start.isoformat()}\nplace of service: 11",
            frozenset(done | issues),
        ),
        DemoTask(
            "dispute of a denied claim",
            "submit_appeal",
            "beacon",
            f"{KAI}\npayer: {BEACON}\nclaim number: BX26A0000101\n"
            f"service date: {(today - timedelta(days=40)).isoformat()}\nreason category: corrected coding\n"
            "reason: Synthetic demo: corrected modifier.\ncontact: Sam Placeholder\nphone: 555-201-0100",
            frozenset(done | issues),
        ),
        DemoTask(
            "claim status, denied (by claim ID)",
            "check_claim_status",
            "beacon",
            f"payer: {BEACON}\nclaim number: BX26A0000101",
            frozenset(issues),
        ),
    ]
