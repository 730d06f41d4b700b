"""Typed records of the portal's world: members, providers, users, claims, auths, appeals."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Coverage(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class ClaimStatus(StrEnum):
    """A claim's life at the payer: acknowledged -> in process -> paid | denied."""

    ACKNOWLEDGED = "acknowledged"
    IN_PROCESS = "in_process"
    PAID = "paid"
    DENIED = "denied"


class AuthDecision(StrEnum):
    """X12 278 decisions (A1, A2, A3, A4) plus "no authorization required"."""

    APPROVED = "approved"
    PARTIALLY_APPROVED = "partially_approved"
    DENIED = "denied"
    PENDED = "pended"
    NOT_REQUIRED = "not_required"


class Kind(StrEnum):
    """What a submission was, as listed by the inspection API."""

    ELIGIBILITY = "eligibility"
    CLAIM = "claim"
    PRIOR_AUTH = "prior_auth"
    APPEAL = "appeal"


@dataclass(frozen=True)
class Benefits:
    copay_office: Decimal
    copay_specialist: Decimal
    coinsurance_pct: int
    deductible_total: Decimal
    deductible_remaining: Decimal
    oop_total: Decimal
    oop_remaining: Decimal


@dataclass(frozen=True)
class Member:
    member_id: str
    first_name: str
    last_name: str
    date_of_birth: date
    coverage: Coverage
    coverage_start: date
    coverage_end: date
    plan_name: str
    group_number: str
    network: str
    benefits: Benefits

    def covered_on(self, day: date) -> bool:
        return self.coverage is Coverage.ACTIVE and self.coverage_start <= day <= self.coverage_end


@dataclass(frozen=True)
class Provider:
    npi: str
    name: str
    org_name: str
    tax_id: str


@dataclass(frozen=True)
class Organization:
    name: str
    tax_id: str
    providers: tuple[Provider, ...]


@dataclass
class User:
    payer: str
    username: str
    password: str
    totp_secret: str
    display_name: str
    failed_logins: int = 0
    locked: bool = False
    last_ack_at: datetime | None = None


@dataclass(frozen=True)
class ServiceLine:
    service_date: date
    place_of_service: str
    procedure_code: str
    modifiers: tuple[str, ...]
    units: int
    charge: Decimal
    diagnosis_pointers: str

    def as_fields(self) -> dict[str, Any]:
        return {
            "service_date": self.service_date.isoformat(),
            "place_of_service": self.place_of_service,
            "procedure_code": self.procedure_code,
            "modifiers": list(self.modifiers),
            "units": self.units,
            "charge": str(self.charge),
            "diagnosis_pointers": self.diagnosis_pointers,
        }


@dataclass
class Claim:
    payer: str
    claim_number: str
    member_id: str
    patient_name: str
    billing_npi: str
    lines: tuple[ServiceLine, ...]
    submitted_at: datetime
    status: ClaimStatus
    final_status: ClaimStatus
    denial_reason: str = ""
    paid_amount: Decimal = Decimal("0")
    polls: int = 0
    duplicate_of: str | None = None
    finalized_at: datetime | None = None  # when it reached its final status (the paid date)
    appeal_ids: list[str] = field(default_factory=list)

    @property
    def total_charge(self) -> Decimal:
        return sum((line.charge for line in self.lines), Decimal("0"))

    @property
    def first_service_date(self) -> date:
        return min(line.service_date for line in self.lines)


@dataclass
class AuthRequest:
    payer: str
    reference_number: str
    member_id: str
    patient_name: str
    procedures: list[dict[str, Any]]  # procedure_code, units, unit_type, approved_units
    service_from: date
    service_to: date
    submitted_at: datetime
    decision: AuthDecision
    final_decision: AuthDecision
    certification_number: str | None = None
    denial_reason: str = ""
    decided_at: datetime | None = None
    polls: int = 0


@dataclass
class Appeal:
    payer: str
    appeal_id: str
    tracking_number: str | None
    claim_number: str
    member_id: str
    reason_category: str
    submitted_at: datetime
    status: str = "Received"


@dataclass
class Submission:
    """One submission as the payer received it: what the inspection API lists."""

    id: int
    payer: str
    kind: Kind
    received_at: datetime
    username: str
    fields: dict[str, Any]
    files: list[dict[str, Any]]
    identifiers: dict[str, str]
    outcome: str
    duplicate: bool = False
    duplicate_of: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "payer": self.payer,
            "kind": self.kind.value,
            "received_at": self.received_at.isoformat(),
            "username": self.username,
            "fields": self.fields,
            "files": self.files,
            "identifiers": self.identifiers,
            "outcome": self.outcome,
            "duplicate": self.duplicate,
            "duplicate_of": self.duplicate_of,
        }
