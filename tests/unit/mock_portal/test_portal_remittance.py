"""What status lookups derive from the record (no HTTP): paid dates, payments, CARCs, decision
dates, the PDFs, and searches that move records on by the clock without counting as polls."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from decimal import Decimal

from pypdf import PdfReader

from mock_portal.knobs import Knobs
from mock_portal.models import AuthDecision, Claim, ClaimStatus
from mock_portal.payers import ACME, BEACON, DuplicateMode
from mock_portal.store import PortalState
from mock_portal.workflows import auths, claims, documents, remittance, status
from tests.unit.mock_portal.portal_samples import NOW
from tests.unit.mock_portal.test_portal_workflows import auth_form, claim_form, submit_claim


def paid_claim(state: PortalState, member_id: str = "SYN100001") -> Claim:
    claim = submit_claim(state, claim_form(member_id), DuplicateMode.BLOCK).claim
    assert claim is not None
    return claim


def test_a_claim_finalized_by_the_clock_is_paid_on_the_day_it_finalized(state: PortalState) -> None:
    claim = paid_claim(state)
    claims.poll(claim, now=NOW + timedelta(days=30), stage_polls=10, stage_minutes=60)
    assert claim.status is ClaimStatus.PAID and claim.finalized_at == NOW + timedelta(minutes=120)
    by_polls = paid_claim(state, "SYN100011")
    for _ in range(2):
        claims.poll(by_polls, now=NOW + timedelta(minutes=5), stage_polls=1, stage_minutes=60)
    assert by_polls.status is ClaimStatus.DENIED and by_polls.finalized_at == NOW + timedelta(minutes=5)


def test_a_paid_claim_statement(state: PortalState) -> None:
    claim = paid_claim(state)
    assert remittance.statement(claim, "check").adjustments == ()  # acknowledged: nothing yet
    claims.poll(claim, now=NOW + timedelta(hours=3), stage_polls=1, stage_minutes=60)
    check = remittance.statement(claim, "check")
    assert check.category.label == "F1 - Finalized/Payment" and check.category.name == "finalized_paid"
    assert check.payment is not None and check.payment.amount == Decimal("100.00")
    assert re.fullmatch(r"\d{8}", check.payment.number)
    assert [(a.code, a.amount) for a in check.adjustments] == [("CO-45", Decimal("25.00"))]
    eft = remittance.statement(claim, "eft").payment
    assert eft is not None and re.fullmatch(r"\d{15}", eft.number)
    again = remittance.payment_number(claim.payer, claim.claim_number, "check")
    assert again == check.payment.number != remittance.payment_number("beacon", claim.claim_number, "check")


def test_a_denied_claim_statement(state: PortalState) -> None:
    claim = paid_claim(state, "SYN100011")
    claims.poll(claim, now=NOW + timedelta(hours=3), stage_polls=1, stage_minutes=60)
    denied = remittance.statement(claim, "check")
    assert denied.category.code == "F2" and denied.payment is None
    assert [(a.code, a.amount) for a in denied.adjustments] == [("CO-50", Decimal("125.00"))]
    assert denied.adjustments[0].reason == remittance.CARC_TEXT["CO-50"]


def test_the_eob_is_the_same_bytes_for_the_same_record(state: PortalState) -> None:
    claim = paid_claim(state)
    assert documents.claim_statement(ACME, claim, remittance.statement(claim, "check")) is None
    claims.poll(claim, now=NOW + timedelta(hours=3), stage_polls=1, stage_minutes=60)
    statement = remittance.statement(claim, "check")
    first = documents.claim_statement(ACME, claim, statement)
    second = documents.claim_statement(ACME, claim, statement)
    assert first is not None and second is not None and first.content == second.content
    assert first.filename == f"acme-eob-{claim.claim_number}.pdf" and first.kind == "eob"
    text = PdfReader(io.BytesIO(first.content)).pages[0].extract_text()
    assert "Explanation of Benefits" in text and claim.claim_number in text
    remit = documents.claim_statement(BEACON, claim, remittance.statement(claim, "eft"))
    assert remit is not None
    assert "Remittance Advice" in PdfReader(io.BytesIO(remit.content)).pages[0].extract_text()


def test_a_pended_auth_decided_by_the_clock_is_dated_when_its_review_ended(state: PortalState) -> None:
    auth = auths.submit(state, payer="acme", username="u", form=auth_form("SYN100022"), now=NOW, files=[])
    assert documents.auth_letter(ACME, auth) is None
    auths.poll(state, auth, now=NOW + timedelta(days=2), pended_polls=99, pended_minutes=30)
    assert auth.decision is AuthDecision.APPROVED and auth.decided_at == NOW + timedelta(minutes=30)
    letter = documents.auth_letter(ACME, auth)
    assert letter is not None and letter.kind == "approval_letter"
    assert auth.certification_number in PdfReader(io.BytesIO(letter.content)).pages[0].extract_text()


def test_the_long_review_ignores_the_knobs(state: PortalState) -> None:
    auth = auths.submit(state, payer="acme", username="u", form=auth_form("SYN100025"), now=NOW, files=[])
    for day in (1, 30, 89):
        auths.poll(state, auth, now=NOW + timedelta(days=day), pended_polls=1, pended_minutes=1)
    assert auth.decision is AuthDecision.PENDED
    auths.poll(state, auth, now=NOW + timedelta(days=91), pended_polls=1, pended_minutes=1)
    assert auth.decision is AuthDecision.APPROVED and auth.decided_at == NOW + auths.LONG_REVIEW


def test_searches_are_no_polls(state: PortalState) -> None:
    claim = paid_claim(state)
    auth = auths.submit(state, payer="acme", username="u", form=auth_form("SYN100022"), now=NOW, files=[])
    knobs = Knobs()
    claim_query = status.ClaimQuery(claim_number=claim.claim_number)
    auth_query = status.AuthQuery(reference_number=auth.reference_number)
    for _ in range(3):
        status.search_claims(state, "acme", claim_query, now=NOW, knobs=knobs, username="u")
        status.search_auths(state, "acme", auth_query, now=NOW, knobs=knobs, username="u")
    assert (claim.polls, claim.status, auth.polls, auth.decision) == (
        0,
        ClaimStatus.ACKNOWLEDGED,
        0,
        AuthDecision.PENDED,
    )
    assert len(state.lookups.lookups) == 6
