"""Eligibility and benefits inquiries (X12 270/271 in portal form)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from mock_portal.models import Kind, Member
from mock_portal.scenarios import Scenario, scenario_for
from mock_portal.store import PortalState


class EligibilityStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    NOT_FOUND = "not_found"  # AAA 75
    DOB_MISMATCH = "dob_mismatch"  # AAA 71
    NAME_MISMATCH = "name_mismatch"  # AAA 73
    UNAVAILABLE = "payer_unavailable"  # AAA 42


AAA = {
    EligibilityStatus.NOT_FOUND: ("75", "Subscriber/insured not found."),
    EligibilityStatus.DOB_MISMATCH: (
        "71",
        "Patient birth date does not match that for the patient on the database.",
    ),
    EligibilityStatus.NAME_MISMATCH: ("73", "Invalid/missing subscriber/insured name."),
    EligibilityStatus.UNAVAILABLE: ("42", "Unable to respond at current time. Please try again later."),
}


@dataclass(frozen=True)
class Inquiry:
    member_id: str
    first_name: str
    last_name: str
    date_of_birth: date
    service_date: date
    service_type: str
    provider_npi: str
    payer_id: str = ""

    def as_fields(self) -> dict[str, str]:
        fields = {
            "member_id": self.member_id,
            "patient_first_name": self.first_name,
            "patient_last_name": self.last_name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "service_date": self.service_date.isoformat(),
            "service_type": self.service_type,
            "provider_npi": self.provider_npi,
        }
        if self.payer_id:
            fields["payer_id"] = self.payer_id
        return fields


@dataclass(frozen=True)
class EligibilityResult:
    status: EligibilityStatus
    control_number: str
    checked_at: datetime
    inquiry: Inquiry
    member: Member | None
    aaa_code: str = ""
    message: str = ""

    @property
    def is_error(self) -> bool:
        return self.status in AAA


def _decide(state: PortalState, inquiry: Inquiry) -> tuple[EligibilityStatus, Member | None]:
    if scenario_for(inquiry.member_id) is Scenario.PAYER_UNAVAILABLE:
        return EligibilityStatus.UNAVAILABLE, None
    member = state.member(inquiry.member_id)
    if member is None:
        return EligibilityStatus.NOT_FOUND, None
    if member.date_of_birth != inquiry.date_of_birth:
        return EligibilityStatus.DOB_MISMATCH, None
    if inquiry.last_name.strip().lower() != member.last_name.lower():
        return EligibilityStatus.NAME_MISMATCH, None
    if member.covered_on(inquiry.service_date):
        return EligibilityStatus.ACTIVE, member
    return EligibilityStatus.INACTIVE, member


def check(
    state: PortalState, *, payer: str, username: str, inquiry: Inquiry, now: datetime
) -> EligibilityResult:
    """Answer an inquiry and record it; the last name decides a name mismatch, not the first."""
    status, member = _decide(state, inquiry)
    code, message = AAA.get(status, ("", ""))
    control = state.ids.control_number()
    state.record(
        payer=payer,
        kind=Kind.ELIGIBILITY,
        username=username,
        now=now,
        fields=inquiry.as_fields(),
        outcome=status.value,
        identifiers={"control_number": control},
    )
    return EligibilityResult(status, control, now, inquiry, member, code, message)
