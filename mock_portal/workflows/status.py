"""Status lookups of claims (X12 276/277) and authorizations (278 inquiry), payer-neutral.

A search reads its query, leaves out records younger than the indexing delay, moves claims and
pended auths on by the clock, and is logged for the inspection API; a detail view is a poll.
The payers' routes only add their words, date formats and templates (status_pages.py).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Generic, Protocol, TypeVar

from mock_portal.knobs import Knobs
from mock_portal.lookups import LookupKind, LookupPage
from mock_portal.models import AuthRequest, Claim
from mock_portal.store import PortalState
from mock_portal.validation import FieldErrors
from mock_portal.workflows import auths, claims
from mock_portal.workflows.remittance import CATEGORIES, NOT_FOUND

DateParser = Callable[[str], date | None]


@dataclass(frozen=True)
class DateFields:
    """How a payer's search forms take their two dates (service from, service to)."""

    parse: DateParser
    labels: tuple[str, str]
    bad: str  # the message for one that does not parse; "{label}" is replaced by its label

    def read(self, query: Mapping[str, str]) -> tuple[date | None, date | None, FieldErrors]:
        errors = FieldErrors()
        found: list[date | None] = []
        for name, label in zip(("service_from", "service_to"), self.labels, strict=True):
            raw = query.get(name, "").strip()
            value = self.parse(raw) if raw else None
            if raw and value is None:
                errors.add(name, self.bad.format(label=label))
            found.append(value)
        return found[0], found[1], errors


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


def _indexed(submitted_at: datetime, now: datetime, delay_minutes: int) -> bool:
    """Whether a record is in the status system yet (a real one lags the front door)."""
    return now - submitted_at >= timedelta(minutes=delay_minutes)


class _Record(Protocol):
    payer: str
    submitted_at: datetime


Q = TypeVar("Q", ClaimQuery, AuthQuery)
R = TypeVar("R", bound=_Record)


class Records(ABC, Generic[Q, R]):
    """One kind of record a status lookup finds (claims, auths): its search and its detail view,
    the same on every payer. Every look moves the record on and is logged for the inspection API."""

    kind: LookupKind  # the lookup log's name for it
    detail_key: str  # what its detail page is found by

    @abstractmethod
    def read(self, query: Mapping[str, str], dates: DateFields, missing: str) -> Q | FieldErrors:
        """The search form's query, or its errors (`missing`: neither a number nor a member id)."""

    @abstractmethod
    def get(self, state: PortalState, payer: str, number: str) -> R | None: ...

    @abstractmethod
    def find(self, state: PortalState, payer: str, query: Q) -> list[R]: ...

    @abstractmethod
    def index_delay(self, knobs: Knobs, query: Q) -> int:
        """Minutes after submission before a search finds the record."""

    @abstractmethod
    def poll(self, state: PortalState, record: R, *, now: datetime, knobs: Knobs, count: bool) -> R: ...

    @abstractmethod
    def number(self, record: R) -> str: ...

    @abstractmethod
    def category(self, record: R) -> str: ...

    def search(
        self, state: PortalState, payer: str, query: Q, *, now: datetime, knobs: Knobs, username: str
    ) -> list[R]:
        delay = self.index_delay(knobs, query)
        found = [
            self.poll(state, record, now=now, knobs=knobs, count=False)
            for record in self.find(state, payer, query)
            if _indexed(record.submitted_at, now, delay)
        ]
        self._log(state, payer, "search", query.key, found, now=now, username=username)
        return found

    def view(self, state: PortalState, record: R, *, now: datetime, knobs: Knobs, username: str) -> R:
        """The record's detail page: a poll, logged."""
        self.poll(state, record, now=now, knobs=knobs, count=True)
        self._log(state, record.payer, "detail", self.detail_key, [record], now=now, username=username)
        return record

    def _log(
        self,
        state: PortalState,
        payer: str,
        page: LookupPage,
        key: str,
        found: list[R],
        *,
        now: datetime,
        username: str,
    ) -> None:
        state.lookups.lookup(
            payer=payer,
            kind=self.kind,
            page=page,
            key=key,
            at=now,
            username=username,
            numbers=tuple(self.number(record) for record in found),
            category=self.category(found[0]) if found else NOT_FOUND.name,
        )


class _Claims(Records[ClaimQuery, Claim]):
    kind: LookupKind = "claim"
    detail_key = "claim_number"

    def read(self, query: Mapping[str, str], dates: DateFields, missing: str) -> ClaimQuery | FieldErrors:
        start, end, errors = dates.read(query)
        number, member = query.get("claim_number", "").strip(), query.get("member_id", "").strip()
        if not (number or member):
            errors.add("claim_number", missing)
        if errors:
            return errors
        npi = query.get("billing_npi", "").strip()
        return ClaimQuery(number, member, start, end, npi)

    def get(self, state: PortalState, payer: str, number: str) -> Claim | None:
        return state.claim(payer, number)

    def find(self, state: PortalState, payer: str, query: ClaimQuery) -> list[Claim]:
        return state.search_claims(payer, **asdict(query))

    def index_delay(self, knobs: Knobs, query: ClaimQuery) -> int:
        return knobs.claim_index_delay_minutes

    def poll(self, state: PortalState, record: Claim, *, now: datetime, knobs: Knobs, count: bool) -> Claim:
        polls, minutes = knobs.claim_stage_polls, knobs.claim_stage_minutes
        return claims.poll(record, now=now, stage_polls=polls, stage_minutes=minutes, count=count)

    def number(self, record: Claim) -> str:
        return record.claim_number

    def category(self, record: Claim) -> str:
        return CATEGORIES[record.status].name


class _Auths(Records[AuthQuery, AuthRequest]):
    kind: LookupKind = "auth"
    detail_key = "reference_number"

    def read(self, query: Mapping[str, str], dates: DateFields, missing: str) -> AuthQuery | FieldErrors:
        start, end, errors = dates.read(query)
        reference, certification, member = (
            query.get(k, "").strip() for k in ("reference_number", "certification_number", "member_id")
        )
        if not (reference or certification or member):
            errors.add("reference_number", missing)
        if errors:
            return errors
        code = query.get("procedure_code", "").strip()
        return AuthQuery(reference, certification, member, code, start, end)

    def get(self, state: PortalState, payer: str, number: str) -> AuthRequest | None:
        return state.auth(payer, number)

    def find(self, state: PortalState, payer: str, query: AuthQuery) -> list[AuthRequest]:
        return state.search_auths(payer, **asdict(query))

    def index_delay(self, knobs: Knobs, query: AuthQuery) -> int:
        """By number the request is found at once; by member only once it is indexed."""
        return knobs.auth_index_delay_minutes if query.key == "member" else 0

    def poll(
        self, state: PortalState, record: AuthRequest, *, now: datetime, knobs: Knobs, count: bool
    ) -> AuthRequest:
        polls, minutes = knobs.pended_polls, knobs.pended_minutes
        return auths.poll(state, record, now=now, pended_polls=polls, pended_minutes=minutes, count=count)

    def number(self, record: AuthRequest) -> str:
        return record.reference_number

    def category(self, record: AuthRequest) -> str:
        return record.decision.value


CLAIMS = _Claims()
AUTHS = _Auths()


def search_claims(
    state: PortalState, payer: str, query: ClaimQuery, *, now: datetime, knobs: Knobs, username: str
) -> list[Claim]:
    return CLAIMS.search(state, payer, query, now=now, knobs=knobs, username=username)


def search_auths(
    state: PortalState, payer: str, query: AuthQuery, *, now: datetime, knobs: Knobs, username: str
) -> list[AuthRequest]:
    return AUTHS.search(state, payer, query, now=now, knobs=knobs, username=username)
