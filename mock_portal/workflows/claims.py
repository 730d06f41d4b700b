"""Professional claims: front-end checks, duplicates, numbering and the status life cycle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from mock_portal.models import Claim, ClaimStatus, Kind, ServiceLine
from mock_portal.payers import DuplicateMode
from mock_portal.scenarios import Scenario, scenario_for
from mock_portal.store import PortalState

DENIAL_NOT_NECESSARY = "CO-50: These are non-covered services because this is not deemed a medical necessity."
DENIAL_DUPLICATE = "CO-18: Exact duplicate claim/service."
STAGES = (ClaimStatus.ACKNOWLEDGED, ClaimStatus.IN_PROCESS)


class ClaimOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE_BLOCKED = "duplicate_blocked"
    DUPLICATE_WARNING = "duplicate_warning"  # nothing recorded yet: the user must confirm


@dataclass(frozen=True)
class ClaimForm:
    member_id: str
    first_name: str
    last_name: str
    date_of_birth: date
    billing_npi: str
    tax_id: str
    diagnosis_codes: tuple[str, ...]
    lines: tuple[ServiceLine, ...]
    rendering_npi: str = ""
    patient_account_number: str = ""
    prior_auth_number: str = ""
    resubmission_code: str = ""
    original_claim_number: str = ""
    payer_id: str = ""

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0"))

    def as_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "member_id": self.member_id,
            "patient_first_name": self.first_name,
            "patient_last_name": self.last_name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "billing_npi": self.billing_npi,
            "tax_id": self.tax_id,
            "rendering_npi": self.rendering_npi,
            "diagnosis_codes": list(self.diagnosis_codes),
            "service_lines": [line.as_fields() for line in self.lines],
            "total_charge": str(self.total_charge),
            "patient_account_number": self.patient_account_number,
            "prior_auth_number": self.prior_auth_number,
            "resubmission_code": self.resubmission_code,
            "original_claim_number": self.original_claim_number,
        }
        if self.payer_id:
            fields["payer_id"] = self.payer_id
        return fields


@dataclass(frozen=True)
class ClaimResult:
    outcome: ClaimOutcome
    submitted_at: datetime
    claim: Claim | None = None
    duplicate_of: str | None = None
    reasons: tuple[str, ...] = ()
    trace_number: str = ""


def _signature(member_id: str, billing_npi: str, lines: tuple[ServiceLine, ...]) -> tuple[Any, ...]:
    return (
        member_id,
        billing_npi,
        tuple(sorted((ln.service_date, ln.procedure_code, ln.units, ln.charge) for ln in lines)),
    )


def find_duplicate(state: PortalState, payer: str, form: ClaimForm) -> Claim | None:
    """A claim on file for the same member, provider, dates, codes and charges (not a replacement)."""
    if form.resubmission_code in ("7", "8"):
        return None
    wanted = _signature(form.member_id, form.billing_npi, form.lines)
    for claim in state.search_claims(payer, member_id=form.member_id):
        if _signature(claim.member_id, claim.billing_npi, claim.lines) == wanted:
            return claim
    return None


def _rejection_reasons(state: PortalState, form: ClaimForm) -> list[str]:
    member = state.member(form.member_id)
    if member is None:
        return ["A3:33 Subscriber and subscriber id not found."]
    reasons = []
    if member.date_of_birth != form.date_of_birth:
        reasons.append("A7:158 Patient date of birth does not match our records.")
    if any(not member.covered_on(line.service_date) for line in form.lines):
        reasons.append("A8:496 Patient not eligible on the date of service.")
    if scenario_for(form.member_id) is Scenario.CLAIM_REJECTED:
        reasons.append("A7:562 Billing provider NPI is not enrolled with this payer.")
        reasons.append("A7:254 Principal diagnosis code requires a 7th character for this service.")
    return reasons


def submit(
    state: PortalState,
    *,
    payer: str,
    username: str,
    form: ClaimForm,
    now: datetime,
    duplicate_mode: DuplicateMode,
    confirmed_duplicate: bool = False,
) -> ClaimResult:
    """Run the payer's front-end edits, then accept, reject, block or warn about a duplicate."""
    fields = form.as_fields()
    reasons = _rejection_reasons(state, form)
    if reasons:
        trace = state.ids.trace_number(payer)
        state.record(
            payer=payer,
            kind=Kind.CLAIM,
            username=username,
            now=now,
            fields=fields,
            outcome=ClaimOutcome.REJECTED.value,
            identifiers={"trace_number": trace},
        )
        return ClaimResult(ClaimOutcome.REJECTED, now, reasons=tuple(reasons), trace_number=trace)
    existing = find_duplicate(state, payer, form)
    if existing and duplicate_mode is DuplicateMode.WARN and not confirmed_duplicate:
        return ClaimResult(ClaimOutcome.DUPLICATE_WARNING, now, duplicate_of=existing.claim_number)
    if existing and duplicate_mode is DuplicateMode.BLOCK:
        state.record(
            payer=payer,
            kind=Kind.CLAIM,
            username=username,
            now=now,
            fields=fields,
            outcome=ClaimOutcome.DUPLICATE_BLOCKED.value,
            duplicate=True,
            duplicate_of=existing.claim_number,
        )
        return ClaimResult(ClaimOutcome.DUPLICATE_BLOCKED, now, duplicate_of=existing.claim_number)
    final, denial = ClaimStatus.PAID, ""
    if existing and duplicate_mode is DuplicateMode.SILENT:
        final, denial = ClaimStatus.DENIED, DENIAL_DUPLICATE
    elif scenario_for(form.member_id) is Scenario.CLAIM_DENIED:
        final, denial = ClaimStatus.DENIED, DENIAL_NOT_NECESSARY
    claim = Claim(
        payer=payer,
        claim_number=state.ids.claim_number(payer, now),
        member_id=form.member_id,
        patient_name=f"{form.first_name} {form.last_name}",
        billing_npi=form.billing_npi,
        lines=form.lines,
        submitted_at=now,
        status=ClaimStatus.ACKNOWLEDGED,
        final_status=final,
        denial_reason=denial,
        paid_amount=(form.total_charge * Decimal("0.8")).quantize(Decimal("0.01"))
        if final is ClaimStatus.PAID
        else Decimal("0"),
        duplicate_of=existing.claim_number if existing else None,
    )
    state.add_claim(claim)
    state.record(
        payer=payer,
        kind=Kind.CLAIM,
        username=username,
        now=now,
        fields=fields,
        outcome=ClaimOutcome.ACCEPTED.value,
        identifiers={"claim_number": claim.claim_number},
        duplicate=existing is not None,
        duplicate_of=existing.claim_number if existing else None,
    )
    return ClaimResult(ClaimOutcome.ACCEPTED, now, claim=claim, duplicate_of=claim.duplicate_of)


def poll(claim: Claim, *, now: datetime, stage_polls: int, stage_minutes: int, count: bool = True) -> Claim:
    """A status lookup: claims move acknowledged -> in process -> final by lookups or by time.

    `count=False` (a search list) moves the claim on by the clock only: it is no poll."""
    if claim.status in (ClaimStatus.PAID, ClaimStatus.DENIED):
        return claim
    if count:
        claim.polls += 1
    by_polls = claim.polls // stage_polls if stage_polls else len(STAGES)
    elapsed_minutes = (now - claim.submitted_at).total_seconds() / 60
    by_time = int(elapsed_minutes // stage_minutes) if stage_minutes else len(STAGES)
    stage = max(by_polls, by_time)
    if stage < len(STAGES):
        claim.status = STAGES[stage]
        return claim
    claim.status = claim.final_status
    claim.finalized_at = now
    if stage_minutes and by_time >= len(STAGES):  # finalized in the background: on that day
        claim.finalized_at = min(now, claim.submitted_at + timedelta(minutes=stage_minutes * len(STAGES)))
    return claim
