"""Status lookups of claims (X12 276/277) and authorizations (278 inquiry), payer-neutral.

A search reads its query, leaves out records younger than the indexing delay, moves claims and
pended auths on by the clock, and is logged for the inspection API; a detail view is a poll.
The payers' routes only add their words, date formats and templates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from mock_portal.knobs import Knobs
from mock_portal.models import AuthRequest, Claim
from mock_portal.store import PortalState
from mock_portal.validation import FieldErrors
from mock_portal.workflows import auths, claims
from mock_portal.workflows.remittance import CATEGORIES, NOT_FOUND

DateParser = Callable[[str], date | None]


@dataclass(frozen=True)
class SearchWords:
    """A payer's messages for a search form filled wrong."""

    missing: str  # neither a number nor a member id
    bad_date: str  # "{label}" is replaced by the field's label


@dataclass(frozen=True)
class ClaimQuery:
    claim_number: str = ""
    member_id: str = ""
    service_from: date | None = None
    service_to: date | None = None
    billing_npi: str = ""

    @property
    def key(self) -> str:
        return "claim_number" if self.claim_number else "member"


@dataclass(frozen=True)
class AuthQuery:
    reference_number: str = ""
    certification_number: str = ""
    member_id: str = ""
    procedure_code: str = ""
    service_from: date | None = None
    service_to: date | None = None

    @property
    def key(self) -> str:
        if self.reference_number:
            return "reference_number"
        return "certification_number" if self.certification_number else "member"


def _dates(
    query: Mapping[str, str], parse: DateParser, words: SearchWords, labels: tuple[str, str]
) -> tuple[date | None, date | None, FieldErrors]:
    errors = FieldErrors()
    found: list[date | None] = []
    for name, label in zip(("service_from", "service_to"), labels, strict=True):
        raw = query.get(name, "").strip()
        value = parse(raw) if raw else None
        if raw and value is None:
            errors.add(name, words.bad_date.format(label=label))
        found.append(value)
    return found[0], found[1], errors


def read_claim_query(
    query: Mapping[str, str], parse: DateParser, words: SearchWords, labels: tuple[str, str]
) -> ClaimQuery | FieldErrors:
    start, end, errors = _dates(query, parse, words, labels)
    number, member = query.get("claim_number", "").strip(), query.get("member_id", "").strip()
    if not (number or member):
        errors.add("claim_number", words.missing)
    if errors:
        return errors
    npi = query.get("billing_npi", "").strip()
    return ClaimQuery(number, member, start, end, npi)


def read_auth_query(
    query: Mapping[str, str], parse: DateParser, words: SearchWords, labels: tuple[str, str]
) -> AuthQuery | FieldErrors:
    start, end, errors = _dates(query, parse, words, labels)
    reference, certification, member = (
        query.get(k, "").strip() for k in ("reference_number", "certification_number", "member_id")
    )
    if not (reference or certification or member):
        errors.add("reference_number", words.missing)
    if errors:
        return errors
    code = query.get("procedure_code", "").strip()
    return AuthQuery(reference, certification, member, code, start, end)


def _indexed(submitted_at: datetime, now: datetime, delay_minutes: int) -> bool:
    """Whether a record is in the status system yet (a real one lags the front door)."""
    return now - submitted_at >= timedelta(minutes=delay_minutes)


def search_claims(
    state: PortalState, payer: str, query: ClaimQuery, *, now: datetime, knobs: Knobs, username: str
) -> list[Claim]:
    found = [
        claims.poll(
            claim,
            now=now,
            stage_polls=knobs.claim_stage_polls,
            stage_minutes=knobs.claim_stage_minutes,
            count=False,
        )
        for claim in state.search_claims(
            payer,
            member_id=query.member_id,
            claim_number=query.claim_number,
            service_from=query.service_from,
            service_to=query.service_to,
            billing_npi=query.billing_npi,
        )
        if _indexed(claim.submitted_at, now, knobs.claim_index_delay_minutes)
    ]
    category = CATEGORIES[found[0].status].name if found else NOT_FOUND.name
    numbers = tuple(c.claim_number for c in found)
    state.lookups.lookup(
        payer=payer,
        kind="claim",
        page="search",
        key=query.key,
        at=now,
        username=username,
        numbers=numbers,
        category=category,
    )
    return found


def view_claim(state: PortalState, claim: Claim, *, now: datetime, knobs: Knobs, username: str) -> Claim:
    """The claim's detail page: a poll, logged."""
    claims.poll(claim, now=now, stage_polls=knobs.claim_stage_polls, stage_minutes=knobs.claim_stage_minutes)
    state.lookups.lookup(
        payer=claim.payer,
        kind="claim",
        page="detail",
        key="claim_number",
        at=now,
        username=username,
        numbers=(claim.claim_number,),
        category=CATEGORIES[claim.status].name,
    )
    return claim


def search_auths(
    state: PortalState, payer: str, query: AuthQuery, *, now: datetime, knobs: Knobs, username: str
) -> list[AuthRequest]:
    """By number the request is found at once; by member only once it is indexed."""
    delay = knobs.auth_index_delay_minutes if query.key == "member" else 0
    found = [
        auths.poll(
            state,
            auth,
            now=now,
            pended_polls=knobs.pended_polls,
            pended_minutes=knobs.pended_minutes,
            count=False,
        )
        for auth in state.search_auths(
            payer,
            member_id=query.member_id,
            reference_number=query.reference_number,
            certification_number=query.certification_number,
            procedure_code=query.procedure_code,
            service_from=query.service_from,
            service_to=query.service_to,
        )
        if _indexed(auth.submitted_at, now, delay)
    ]
    state.lookups.lookup(
        payer=payer,
        kind="auth",
        page="search",
        key=query.key,
        at=now,
        username=username,
        numbers=tuple(a.reference_number for a in found),
        category=found[0].decision.value if found else NOT_FOUND.name,
    )
    return found


def view_auth(
    state: PortalState, auth: AuthRequest, *, now: datetime, knobs: Knobs, username: str
) -> AuthRequest:
    """The request's detail page: a poll, logged."""
    auths.poll(state, auth, now=now, pended_polls=knobs.pended_polls, pended_minutes=knobs.pended_minutes)
    state.lookups.lookup(
        payer=auth.payer,
        kind="auth",
        page="detail",
        key="reference_number",
        at=now,
        username=username,
        numbers=(auth.reference_number,),
        category=auth.decision.value,
    )
    return auth
