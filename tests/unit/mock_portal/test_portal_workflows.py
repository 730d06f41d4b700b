"""The four workflows' business logic against seeded state (no HTTP)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest

from mock_portal.models import AuthDecision, ClaimStatus, Kind, ServiceLine
from mock_portal.payers import DuplicateMode
from mock_portal.store import PortalState
from mock_portal.workflows import appeals, auths, claims, eligibility
from mock_portal.workflows.appeals import AppealForm, AppealOutcome
from mock_portal.workflows.auths import AuthForm, Procedure
from mock_portal.workflows.claims import ClaimForm, ClaimOutcome
from mock_portal.workflows.eligibility import EligibilityStatus, Inquiry
from tests.unit.mock_portal.portal_samples import MEMBERS, NOW


def inquiry(member_id: str, dob: date | None = None, last: str | None = None) -> Inquiry:
    first, last_name, born = MEMBERS.get(member_id, ("No", "Body", date(1990, 1, 1)))
    return Inquiry(member_id, first, last or last_name, dob or born, NOW.date(), "30", "2000000002")


@pytest.mark.parametrize(
    ("member_id", "dob", "status", "aaa"),
    [
        ("SYN100001", None, EligibilityStatus.ACTIVE, ""),
        ("SYN100002", None, EligibilityStatus.INACTIVE, ""),
        ("SYN999999", None, EligibilityStatus.NOT_FOUND, "75"),
        ("SYN100001", date(1980, 4, 13), EligibilityStatus.DOB_MISMATCH, "71"),
        ("SYN100042", None, EligibilityStatus.UNAVAILABLE, "42"),
    ],
)
def test_eligibility_outcomes(
    state: PortalState, member_id: str, dob: date | None, status: str, aaa: str
) -> None:
    result = eligibility.check(state, payer="acme", username="u", inquiry=inquiry(member_id, dob), now=NOW)
    assert result.status == status
    assert result.aaa_code == aaa
    assert re.fullmatch(r"\d{9}", result.control_number)
    recorded = state.submissions[-1]
    assert recorded.kind is Kind.ELIGIBILITY and recorded.outcome == status
    assert recorded.identifiers == {"control_number": result.control_number}


def test_eligibility_name_mismatch(state: PortalState) -> None:
    result = eligibility.check(
        state, payer="acme", username="u", inquiry=inquiry("SYN100001", last="Other"), now=NOW
    )
    assert result.status is EligibilityStatus.NAME_MISMATCH and result.aaa_code == "73"


def claim_form(member_id: str = "SYN100001", charge: str = "125.00", days_ago: int = 5) -> ClaimForm:
    first, last, dob = MEMBERS[member_id]
    line = ServiceLine(NOW.date() - timedelta(days=days_ago), "11", "99213", (), 1, Decimal(charge), "A")
    return ClaimForm(member_id, first, last, dob, "2000000002", "123456789", ("I10",), (line,))


def submit_claim(state: PortalState, form: ClaimForm, mode: DuplicateMode, **kw: bool) -> claims.ClaimResult:
    return claims.submit(state, payer="acme", username="u", form=form, now=NOW, duplicate_mode=mode, **kw)


def test_claim_accepted_with_13_digit_number_then_progresses(state: PortalState) -> None:
    result = submit_claim(state, claim_form(), DuplicateMode.BLOCK)
    assert result.outcome is ClaimOutcome.ACCEPTED and result.claim is not None
    assert re.fullmatch(r"\d{13}", result.claim.claim_number)
    seen = [claims.poll(result.claim, now=NOW, stage_polls=1, stage_minutes=60).status for _ in range(3)]
    assert seen == [ClaimStatus.IN_PROCESS, ClaimStatus.PAID, ClaimStatus.PAID]
    assert result.claim.paid_amount == Decimal("100.00")


def test_claim_progress_by_minutes(state: PortalState) -> None:
    result = submit_claim(state, claim_form(), DuplicateMode.BLOCK)
    assert result.claim is not None
    later = NOW + timedelta(minutes=121)
    assert claims.poll(result.claim, now=later, stage_polls=10, stage_minutes=60).status is ClaimStatus.PAID


def test_beacon_claim_numbers_are_alphanumeric(state: PortalState) -> None:
    result = claims.submit(
        state, payer="beacon", username="u", form=claim_form(), now=NOW, duplicate_mode=DuplicateMode.WARN
    )
    assert result.claim is not None and re.fullmatch(r"BX\d{2}[A-M]\d{7}", result.claim.claim_number)


@pytest.mark.parametrize(
    ("member_id", "fragment"), [("SYN100010", "not enrolled"), ("SYN100002", "not eligible")]
)
def test_claim_front_end_rejections(state: PortalState, member_id: str, fragment: str) -> None:
    result = submit_claim(state, claim_form(member_id), DuplicateMode.BLOCK)
    assert result.outcome is ClaimOutcome.REJECTED and result.claim is None
    assert any(fragment in reason for reason in result.reasons)
    assert state.submissions[-1].identifiers == {"trace_number": result.trace_number}


def test_duplicate_block_records_flag_and_issues_nothing(state: PortalState) -> None:
    first = submit_claim(state, claim_form(), DuplicateMode.BLOCK)
    second = submit_claim(state, claim_form(), DuplicateMode.BLOCK)
    assert first.claim is not None
    assert (
        second.outcome is ClaimOutcome.DUPLICATE_BLOCKED and second.duplicate_of == first.claim.claim_number
    )
    assert state.submissions[-1].duplicate and state.submissions[-1].identifiers == {}


def test_duplicate_warning_then_submit_anyway(state: PortalState) -> None:
    first = submit_claim(state, claim_form(), DuplicateMode.WARN)
    warned = submit_claim(state, claim_form(), DuplicateMode.WARN)
    assert warned.outcome is ClaimOutcome.DUPLICATE_WARNING and len(state.submissions) == 1
    forced = submit_claim(state, claim_form(), DuplicateMode.WARN, confirmed_duplicate=True)
    assert (
        forced.outcome is ClaimOutcome.ACCEPTED
        and first.claim
        and forced.duplicate_of == first.claim.claim_number
    )
    assert state.submissions[-1].duplicate


def test_silent_duplicate_is_denied_later(state: PortalState) -> None:
    submit_claim(state, claim_form(), DuplicateMode.SILENT)
    again = submit_claim(state, claim_form(), DuplicateMode.SILENT)
    assert again.outcome is ClaimOutcome.ACCEPTED and again.claim is not None
    claims.poll(again.claim, now=NOW, stage_polls=0, stage_minutes=0)
    assert again.claim.status is ClaimStatus.DENIED and "CO-18" in again.claim.denial_reason


def test_replacement_claims_are_not_duplicates(state: PortalState) -> None:
    submit_claim(state, claim_form(), DuplicateMode.BLOCK)
    form = claim_form()
    replacement = ClaimForm(**{**form.__dict__, "resubmission_code": "7", "original_claim_number": "X"})
    assert submit_claim(state, replacement, DuplicateMode.BLOCK).outcome is ClaimOutcome.ACCEPTED


def auth_form(member_id: str, units: int = 10) -> AuthForm:
    first, last, dob = MEMBERS[member_id]
    start = NOW.date() + timedelta(days=7)
    return AuthForm(
        member_id,
        first,
        last,
        dob,
        "2000000002",
        "2123456784",
        ("M17.11",),
        (Procedure("27447", units, "units"),),
        start,
        start,
        "standard",
        "22",
    )


@pytest.mark.parametrize(
    ("member_id", "decision", "approved", "has_cert"),
    [
        ("SYN100001", AuthDecision.APPROVED, 10, True),
        ("SYN100020", AuthDecision.PARTIALLY_APPROVED, 5, True),
        ("SYN100021", AuthDecision.DENIED, 0, False),
        ("SYN100024", AuthDecision.NOT_REQUIRED, 0, False),
    ],
)
def test_auth_decisions(
    state: PortalState, member_id: str, decision: AuthDecision, approved: int, has_cert: bool
) -> None:
    auth = auths.submit(state, payer="acme", username="u", form=auth_form(member_id), now=NOW, files=[])
    assert auth.decision is decision
    assert auth.procedures[0]["approved_units"] == approved
    assert bool(auth.certification_number) is has_cert
    assert re.fullmatch(r"CASE-\d{8}-\d{5}", auth.reference_number)
    if has_cert:
        assert re.fullmatch(r"PA-\d{4}-\d{2}-\d{4}", auth.certification_number or "")
    if decision is AuthDecision.DENIED:
        assert "medically necessary" in auth.denial_reason


@pytest.mark.parametrize(
    ("member_id", "final"), [("SYN100022", AuthDecision.APPROVED), ("SYN100023", AuthDecision.DENIED)]
)
def test_pended_auth_is_decided_after_polls(state: PortalState, member_id: str, final: AuthDecision) -> None:
    auth = auths.submit(state, payer="acme", username="u", form=auth_form(member_id), now=NOW, files=[])
    assert auth.decision is AuthDecision.PENDED and auth.certification_number is None
    auths.poll(state, auth, now=NOW, pended_polls=2, pended_minutes=30)
    assert auth.decision is AuthDecision.PENDED
    auths.poll(state, auth, now=NOW, pended_polls=2, pended_minutes=30)
    assert auth.decision is final and auth.decided_at == NOW


def test_pended_auth_is_decided_after_minutes(state: PortalState) -> None:
    auth = auths.submit(state, payer="acme", username="u", form=auth_form("SYN100022"), now=NOW, files=[])
    auths.poll(state, auth, now=NOW + timedelta(minutes=31), pended_polls=99, pended_minutes=30)
    assert auth.decision is AuthDecision.APPROVED


def test_exchange_pends_every_auth_except_not_required(state: PortalState) -> None:
    pended = auths.submit(
        state, payer="beacon", username="u", form=auth_form("SYN100001"), now=NOW, files=[], always_pend=True
    )
    not_required = auths.submit(
        state, payer="beacon", username="u", form=auth_form("SYN100024"), now=NOW, files=[], always_pend=True
    )
    assert pended.decision is AuthDecision.PENDED and not_required.decision is AuthDecision.NOT_REQUIRED
    assert re.fullmatch(r"\d{10}", pended.reference_number)


def appeal_form(claim_number: str, member_id: str = "SYN100030") -> AppealForm:
    first, last, dob = MEMBERS[member_id]
    return AppealForm(
        claim_number, member_id, first, last, dob, "medical_necessity", "Notes attached.", "A", "5550101234"
    )


def file_appeal(
    state: PortalState, payer: str, claim_number: str, numbered: bool = True
) -> appeals.AppealResult:
    return appeals.submit(
        state, payer=payer, username="u", form=appeal_form(claim_number), now=NOW, files=[],
        with_tracking_number=numbered,
    )  # fmt: skip


def test_appeal_on_denied_claim_gets_tracking_number(state: PortalState) -> None:
    result = file_appeal(state, "acme", "2600100000101")
    assert result.outcome is AppealOutcome.FILED and result.appeal is not None
    assert re.fullmatch(r"APL-\d{4}-\d{6}", result.appeal.tracking_number or "")
    assert [a.appeal_id for a in state.appeals_for_claim("acme", "2600100000101")] == [
        result.appeal.appeal_id
    ]


def test_dispute_without_number_is_found_by_claim(state: PortalState) -> None:
    result = file_appeal(state, "beacon", "BX26A0000101", numbered=False)
    assert result.outcome is AppealOutcome.FILED and result.appeal and result.appeal.tracking_number is None
    assert state.submissions[-1].identifiers == {}
    assert len(state.appeals_for_claim("beacon", "BX26A0000101")) == 1


@pytest.mark.parametrize(
    ("claim_number", "outcome"),
    [
        ("2600100000102", AppealOutcome.NOT_APPEALABLE),
        ("2600100000103", AppealOutcome.DUPLICATE),
        ("2600199999999", AppealOutcome.CLAIM_NOT_FOUND),
        ("BX26A0000101", AppealOutcome.CLAIM_NOT_FOUND),
    ],
)
def test_appeals_refused(state: PortalState, claim_number: str, outcome: AppealOutcome) -> None:
    result = file_appeal(state, "acme", claim_number)
    assert result.outcome is outcome and result.appeal is None
    assert state.submissions[-1].outcome == outcome.value
    assert state.submissions[-1].duplicate is (outcome is AppealOutcome.DUPLICATE)


def test_searches_used_for_reconciliation(state: PortalState) -> None:
    result = submit_claim(state, claim_form(), DuplicateMode.BLOCK)
    assert result.claim is not None
    by_member = state.search_claims("acme", member_id="SYN100001")
    assert [c.claim_number for c in by_member] == [result.claim.claim_number]
    day = result.claim.first_service_date
    assert state.search_claims("acme", member_id="syn100001", service_from=day, service_to=day)
    assert not state.search_claims("acme", member_id="SYN100001", service_from=day + timedelta(days=1))
    auth = auths.submit(state, payer="acme", username="u", form=auth_form("SYN100001"), now=NOW, files=[])
    assert state.search_auths("acme", member_id="SYN100001") == [auth]
    assert state.search_auths("beacon", member_id="SYN100001") == []
