"""Prior authorization requests (X12 278 in portal form): decisions, pended reviews, lookups."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from mock_portal.models import AuthDecision, AuthRequest, Kind
from mock_portal.scenarios import Scenario, scenario_for
from mock_portal.store import PortalState

DENIAL_REASON = "Not medically necessary: the submitted clinical information does not meet criteria."

_FINAL_BY_SCENARIO = {
    Scenario.AUTH_PARTIAL: AuthDecision.PARTIALLY_APPROVED,
    Scenario.AUTH_DENIED: AuthDecision.DENIED,
    Scenario.AUTH_PENDED_APPROVED: AuthDecision.APPROVED,
    Scenario.AUTH_PENDED_DENIED: AuthDecision.DENIED,
    Scenario.AUTH_NOT_REQUIRED: AuthDecision.NOT_REQUIRED,
}
_PENDED = (Scenario.AUTH_PENDED_APPROVED, Scenario.AUTH_PENDED_DENIED, Scenario.AUTH_PENDED_LONG)
LONG_REVIEW = timedelta(days=90)  # past any follow-up window


@dataclass(frozen=True)
class Procedure:
    code: str
    units: int
    unit_type: str  # "units" or "visits" or "days"


@dataclass(frozen=True)
class AuthForm:
    member_id: str
    first_name: str
    last_name: str
    date_of_birth: date
    requesting_npi: str
    servicing_npi: str
    diagnosis_codes: tuple[str, ...]
    procedures: tuple[Procedure, ...]
    service_from: date
    service_to: date
    urgency: str  # "standard" or "expedited"
    place_of_service: str
    clinical_notes: str = ""
    payer_id: str = ""

    def as_fields(self) -> dict[str, Any]:
        fields: dict[str, Any] = {
            "member_id": self.member_id,
            "patient_first_name": self.first_name,
            "patient_last_name": self.last_name,
            "date_of_birth": self.date_of_birth.isoformat(),
            "requesting_npi": self.requesting_npi,
            "servicing_npi": self.servicing_npi,
            "diagnosis_codes": list(self.diagnosis_codes),
            "procedures": [
                {"procedure_code": p.code, "units": p.units, "unit_type": p.unit_type}
                for p in self.procedures
            ],
            "service_from": self.service_from.isoformat(),
            "service_to": self.service_to.isoformat(),
            "urgency": self.urgency,
            "place_of_service": self.place_of_service,
            "clinical_notes": self.clinical_notes,
        }
        if self.payer_id:
            fields["payer_id"] = self.payer_id
        return fields


def _decide(state: PortalState, auth: AuthRequest, now: datetime) -> None:
    """Settle a decision: numbers, approved units and dates follow from `final_decision`."""
    auth.decision = auth.final_decision
    auth.decided_at = now
    approved = auth.final_decision in (AuthDecision.APPROVED, AuthDecision.PARTIALLY_APPROVED)
    for proc in auth.procedures:
        units = int(proc["units"])
        if auth.final_decision is AuthDecision.APPROVED:
            proc["approved_units"] = units
        elif auth.final_decision is AuthDecision.PARTIALLY_APPROVED:
            proc["approved_units"] = max(1, units // 2)
        else:
            proc["approved_units"] = 0
    if approved:
        auth.certification_number = state.ids.certification_number(auth.payer, now)
    if auth.final_decision is AuthDecision.DENIED:
        auth.denial_reason = DENIAL_REASON


def submit(
    state: PortalState,
    *,
    payer: str,
    username: str,
    form: AuthForm,
    now: datetime,
    files: list[dict[str, Any]],
    always_pend: bool = False,
) -> AuthRequest:
    """Decide at once, or pend (pended scenarios; every request at an exchange that pends first)."""
    scenario = scenario_for(form.member_id)
    final = _FINAL_BY_SCENARIO.get(scenario, AuthDecision.APPROVED)
    auth = AuthRequest(
        payer=payer,
        reference_number=state.ids.auth_reference(payer, now),
        member_id=form.member_id,
        patient_name=f"{form.first_name} {form.last_name}",
        procedures=[
            {"procedure_code": p.code, "units": p.units, "unit_type": p.unit_type} for p in form.procedures
        ],
        service_from=form.service_from,
        service_to=form.service_to,
        submitted_at=now,
        decision=AuthDecision.PENDED,
        final_decision=final,
    )
    pend = scenario in _PENDED or (always_pend and final is not AuthDecision.NOT_REQUIRED)
    if not pend:
        _decide(state, auth, now)
    state.add_auth(auth)
    state.record(
        payer=payer,
        kind=Kind.PRIOR_AUTH,
        username=username,
        now=now,
        fields=form.as_fields(),
        files=files,
        outcome=auth.decision.value,
        identifiers={
            "reference_number": auth.reference_number,
            "certification_number": auth.certification_number or "",
        },
    )
    return auth


def poll(
    state: PortalState,
    auth: AuthRequest,
    *,
    now: datetime,
    pended_polls: int,
    pended_minutes: int,
    count: bool = True,
) -> AuthRequest:
    """A lookup of the auth: a pended review is decided after N lookups or N minutes.

    `count=False` (a search list) decides by the clock only: it is no poll. SYN100025's review
    ignores both knobs and takes LONG_REVIEW."""
    if auth.decision is not AuthDecision.PENDED:
        return auth
    if count:
        auth.polls += 1
    if scenario_for(auth.member_id) is Scenario.AUTH_PENDED_LONG:
        due = auth.submitted_at + LONG_REVIEW
        if now >= due:
            _decide(state, auth, due)
        return auth
    due = auth.submitted_at + timedelta(minutes=pended_minutes)
    if pended_minutes and now >= due:
        _decide(state, auth, due)  # decided in the background: at that time
    elif auth.polls >= pended_polls:
        _decide(state, auth, now)
    return auth


def expiration(auth: AuthRequest) -> date:
    return max(auth.service_to, auth.service_from + timedelta(days=90))
