"""One pydantic model per task type: the canonical fields of DOMAIN.md §2 and the rules of §3.

Rules about one value live on the field (readers in `values`, identifier checks in `codes`).
Rules relative to today (DOB in the past, timely filing) read `today` and `timely_filing_days` from
the validation context and are skipped without one, so stored fields can be re-read later. Rules
spanning several fields (pointers, totals, date order) are `rules.cross_problems`, run after a model
validates, so each can name the exact field it concerns; they live in `rules`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import partial
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationInfo,
    model_validator,
)

from sops.aliases import normalise_key
from sops.fields import FIELDS
from sops.inputs import codes
from sops.inputs.values import MAX_LONG_TEXT, parse_date, parse_money, parse_units, shorten, text
from sops.types import TaskType

DEFAULT_TIMELY_FILING_DAYS = 365
MAX_LINES = 50
EARLIEST_BIRTH = date(1900, 1, 1)


def _name(value: Any) -> str:
    name = text(value, max_length=60)
    if not name or not name[0].isalpha() or not all(ch.isalpha() or ch in " '.-" for ch in name):
        raise ValueError(f"{shorten(name)} is not a name: use letters, spaces, hyphens or apostrophes")
    return name


def _reference(value: Any) -> str:
    """Claim, authorization and account numbers: letters, digits and dashes as printed."""
    ref = text(value, max_length=50).upper()
    if not ref or not all(ch.isalnum() or ch in "-./" for ch in ref):
        raise ValueError(f"{shorten(ref)} is not a reference number: use the letters and digits as printed")
    return ref


def _today(info: ValidationInfo) -> date | None:
    context = info.context if isinstance(info.context, dict) else {}
    today = context.get("today")
    return today if isinstance(today, date) else None


def _birth_date(value: date, info: ValidationInfo) -> date:
    today = _today(info)
    if today is not None and value >= today:
        raise ValueError(f"{value.isoformat()} is not in the past")
    if value < EARLIEST_BIRTH:
        raise ValueError(f"{value.isoformat()} is before 1900: check the year")
    return value


def _claim_date(value: date, info: ValidationInfo) -> date:
    today = _today(info)
    if today is None:
        return value
    if value > today:
        raise ValueError(f"{value.isoformat()} is in the future: a claim is sent after the service")
    context = info.context if isinstance(info.context, dict) else {}
    limit = context.get("timely_filing_days", DEFAULT_TIMELY_FILING_DAYS)
    if (today - value).days > limit:
        raise ValueError(f"{value.isoformat()} is past the {limit}-day timely filing limit")
    return value


def _near_date(value: date, info: ValidationInfo, *, back: int, ahead: int) -> date:
    today = _today(info)
    if today is not None and value > today + timedelta(days=ahead):
        raise ValueError(f"{value.isoformat()} is too far in the future: check the year")
    if today is not None and value < today - timedelta(days=back):
        raise ValueError(f"{value.isoformat()} is too far in the past: check the year")
    return value


def _choice(options: dict[str, str], what: str) -> Any:
    def read(value: Any) -> str:
        key = normalise_key(text(value))
        if key not in options:
            choices = ", ".join(sorted(set(options.values())))
            raise ValueError(f"{shorten(value)} is not a known {what} (use one of: {choices})")
        return options[key]

    return read


Name = Annotated[str, BeforeValidator(_name)]
Text = Annotated[str, BeforeValidator(text)]
LongText = Annotated[str, BeforeValidator(partial(text, max_length=MAX_LONG_TEXT, multiline=True))]
Reference = Annotated[str, BeforeValidator(_reference)]
Npi = Annotated[str, BeforeValidator(codes.npi)]
Money = Annotated[
    Decimal, BeforeValidator(parse_money), PlainSerializer(lambda d: f"{d:.2f}", return_type=str)
]
Units = Annotated[int, BeforeValidator(parse_units)]
Place = Annotated[str, BeforeValidator(codes.place_of_service)]
Procedure = Annotated[str, BeforeValidator(codes.procedure_code)]
Modifiers = Annotated[list[str], BeforeValidator(codes.modifiers)]
BirthDate = Annotated[date, BeforeValidator(parse_date), AfterValidator(_birth_date)]
ClaimDate = Annotated[date, BeforeValidator(parse_date), AfterValidator(_claim_date)]
AuthDate = Annotated[
    date, BeforeValidator(parse_date), AfterValidator(partial(_near_date, back=365, ahead=730))
]
NearDate = Annotated[
    date, BeforeValidator(parse_date), AfterValidator(partial(_near_date, back=730, ahead=365))
]

RESUBMISSION = {
    "1": "1",
    "original": "1",
    "7": "7",
    "replacement": "7",
    "replace": "7",
    "corrected": "7",
    "8": "8",
    "void": "8",
    "cancel": "8",
}
URGENCY = {key: key for key in FIELDS["urgency"].choices} | {"routine": "standard", "urgent": "expedited"}
UNIT_TYPES = {
    "units": "units",
    "unit": "units",
    "un": "units",
    "visits": "visits",
    "visit": "visits",
    "days": "days",
    "day": "days",
    "da": "days",
}
REASONS = {key: key for key in FIELDS["reason_category"].choices}
REASONS |= {
    "timely_filing_proof": "timely_filing",
    "coding": "corrected_coding",
    "necessity": "medical_necessity",
    "prior_authorization": "authorization",
    "cob": "coordination_of_benefits",
    "duplicate_denial": "duplicate",
    "unbundling": "bundling",
}


def _looked_up_date(value: date, info: ValidationInfo) -> date:
    """A date of service to look a claim up by: in the past, within the last few years."""
    today = _today(info)
    if today is not None and value > today:
        raise ValueError(
            f"{value.isoformat()} is in the future: a claim's status is looked up after the service"
        )
    return _near_date(value, info, back=3 * 365, ahead=0)


MemberId = Annotated[str, BeforeValidator(codes.member_id)]
ServiceDate = Annotated[date, BeforeValidator(parse_date), AfterValidator(_looked_up_date)]


class _Base(BaseModel):
    model_config = ConfigDict(extra="ignore")


class Patient(_Base):
    """The member and patient fields of the task types that act on one patient's record."""

    member_id: MemberId
    patient_first_name: Name
    patient_last_name: Name
    date_of_birth: BirthDate
    payer: Text


class ServiceLine(_Base):
    """One CMS-1500 line; missing date / place fall back to the claim's (see `check`)."""

    procedure_code: Procedure
    modifiers: Modifiers = []
    units: Units = 1
    charge: Money
    diagnosis_pointers: Annotated[list[str], BeforeValidator(codes.diagnosis_pointers)] = ["A"]
    service_date: ClaimDate
    place_of_service: Place


class RequestedProcedure(_Base):
    procedure_code: Procedure
    modifiers: Modifiers = []
    units: Units = 1
    unit_type: Annotated[
        Literal["units", "visits", "days"], BeforeValidator(_choice(UNIT_TYPES, "unit type"))
    ] = "units"


class CheckEligibilityInputs(Patient):
    provider_npi: Npi | None = None
    service_date: NearDate | None = None
    service_type: Annotated[str, BeforeValidator(codes.service_type)] = "30"


class SubmitClaimInputs(Patient):
    billing_npi: Npi
    tax_id: Annotated[str, BeforeValidator(codes.ein)]
    diagnosis_codes: Annotated[list[str], BeforeValidator(partial(codes.diagnosis_codes, billable=True))]
    service_lines: list[ServiceLine] = Field(min_length=1, max_length=MAX_LINES)
    rendering_npi: Npi | None = None
    service_date: ClaimDate | None = None
    place_of_service: Place | None = None
    total_charge: Money | None = None
    patient_account_number: Reference | None = None
    prior_auth_number: Reference | None = None
    resubmission_code: Annotated[str, BeforeValidator(_choice(RESUBMISSION, "resubmission code"))] | None = (
        None
    )
    original_claim_number: Reference | None = None

    @model_validator(mode="after")
    def _total(self) -> Self:
        """The total is the sum of the lines when not given (a given one is checked in cross_problems)."""
        if self.total_charge is None:
            self.total_charge = sum((line.charge for line in self.service_lines), Decimal("0.00"))
        return self


class SubmitPriorAuthorizationInputs(Patient):
    requesting_npi: Npi
    servicing_npi: Npi
    diagnosis_codes: Annotated[list[str], BeforeValidator(partial(codes.diagnosis_codes, billable=False))]
    procedures: list[RequestedProcedure] = Field(min_length=1, max_length=MAX_LINES)
    service_from: AuthDate
    service_to: AuthDate | None = None
    place_of_service: Place
    urgency: Annotated[Literal["standard", "expedited"], BeforeValidator(_choice(URGENCY, "urgency"))] = (
        "standard"
    )
    clinical_notes: LongText | None = None


class SubmitAppealInputs(Patient):
    original_claim_number: Reference
    reason_category: Annotated[str, BeforeValidator(_choice(REASONS, "appeal reason"))]
    reason_text: LongText
    contact_name: Name
    contact_phone: Annotated[str, BeforeValidator(codes.phone)]
    provider_npi: Npi | None = None
    service_date: BirthDate | None = None  # the claim's date of service: in the past, like a birth date


class StatusLookup(_Base):
    """A status check: found by the payer's number, or else by the member (`rules` says which)."""

    member_id: MemberId | None = None
    patient_first_name: Name | None = None
    patient_last_name: Name | None = None
    date_of_birth: BirthDate | None = None
    payer: Text


TaskInputs = Patient | StatusLookup  # the validated inputs of any task type


class CheckClaimStatusInputs(StatusLookup):
    """By `claim_number`, or by member + `service_date_from` (`service_date_to` defaults to it)."""

    claim_number: Reference | None = None
    service_date_from: ServiceDate | None = None
    service_date_to: ServiceDate | None = None
    billing_npi: Npi | None = None


class CheckAuthorizationStatusInputs(StatusLookup):
    """By `reference_number` or `certification_number`, or by member + procedure + dates."""

    reference_number: Reference | None = None
    certification_number: Reference | None = None
    procedure_code: Procedure | None = None
    service_from: AuthDate | None = None
    service_to: AuthDate | None = None
    requesting_npi: Npi | None = None


MODELS: dict[TaskType, type[Patient] | type[StatusLookup]] = {
    TaskType.CHECK_ELIGIBILITY: CheckEligibilityInputs,
    TaskType.SUBMIT_CLAIM: SubmitClaimInputs,
    TaskType.SUBMIT_PRIOR_AUTHORIZATION: SubmitPriorAuthorizationInputs,
    TaskType.SUBMIT_APPEAL: SubmitAppealInputs,
    TaskType.CHECK_CLAIM_STATUS: CheckClaimStatusInputs,
    TaskType.CHECK_AUTHORIZATION_STATUS: CheckAuthorizationStatusInputs,
}
