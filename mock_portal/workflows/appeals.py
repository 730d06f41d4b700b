"""Appeals (Acme) and disputes (Beacon) on a claim: only denied claims, one open appeal each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from mock_portal.models import Appeal, ClaimStatus, Kind
from mock_portal.store import PortalState


class AppealOutcome(StrEnum):
    FILED = "filed"
    CLAIM_NOT_FOUND = "claim_not_found"
    NOT_APPEALABLE = "not_appealable"
    DUPLICATE = "duplicate_blocked"


@dataclass(frozen=True)
class AppealForm:
    claim_number: str
    member_id: str
    first_name: str
    last_name: str
    date_of_birth: date
    reason_category: str
    reason_text: str
    contact_name: str
    contact_phone: str

    def as_fields(self) -> dict[str, Any]:
        return {
            "claim_number": self.claim_number,
            "member_id": self.member_id,
            "patient_first_name": self.first_name,
            "patient_last_name": self.last_name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "reason_category": self.reason_category,
            "reason_text": self.reason_text,
            "contact_name": self.contact_name,
            "contact_phone": self.contact_phone,
        }


@dataclass(frozen=True)
class AppealResult:
    outcome: AppealOutcome
    submitted_at: datetime
    appeal: Appeal | None = None
    existing: Appeal | None = None
    claim_status: str = ""


def submit(
    state: PortalState,
    *,
    payer: str,
    username: str,
    form: AppealForm,
    now: datetime,
    files: list[dict[str, Any]],
    with_tracking_number: bool,
) -> AppealResult:
    """File an appeal, or refuse it (unknown claim, claim not denied, an appeal already open)."""
    claim = state.claim(payer, form.claim_number)

    def refuse(outcome: AppealOutcome, existing: Appeal | None = None, status: str = "") -> AppealResult:
        state.record(
            payer=payer,
            kind=Kind.APPEAL,
            username=username,
            now=now,
            fields=form.as_fields(),
            files=files,
            outcome=outcome.value,
            duplicate=outcome is AppealOutcome.DUPLICATE,
            duplicate_of=(existing.tracking_number or existing.appeal_id) if existing else None,
        )
        return AppealResult(outcome, now, existing=existing, claim_status=status)

    if claim is None or claim.member_id != form.member_id:
        return refuse(AppealOutcome.CLAIM_NOT_FOUND)
    if claim.status is not ClaimStatus.DENIED:
        return refuse(AppealOutcome.NOT_APPEALABLE, status=claim.status.value)
    open_appeals = state.appeals_for_claim(payer, claim.claim_number)
    if open_appeals:
        return refuse(AppealOutcome.DUPLICATE, existing=open_appeals[0])
    appeal = Appeal(
        payer=payer,
        appeal_id=state.ids.appeal_id(),
        tracking_number=state.ids.appeal_tracking_number(now) if with_tracking_number else None,
        claim_number=claim.claim_number,
        member_id=claim.member_id,
        reason_category=form.reason_category,
        submitted_at=now,
    )
    state.appeals.append(appeal)
    claim.appeal_ids.append(appeal.appeal_id)
    state.record(
        payer=payer,
        kind=Kind.APPEAL,
        username=username,
        now=now,
        fields=form.as_fields(),
        files=files,
        outcome=AppealOutcome.FILED.value,
        identifiers={"tracking_number": appeal.tracking_number or ""},
    )
    return AppealResult(AppealOutcome.FILED, now, appeal=appeal)
