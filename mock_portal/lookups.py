"""The inspection log of status lookups and documents served, so tests can count what was asked.

Kept with the portal's state (a reset clears it); listed by the admin API (`/_mock/lookups`,
`/_mock/documents`). Nothing here changes what a page shows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

LookupKind = Literal["claim", "auth"]
LookupPage = Literal["search", "detail"]


@dataclass(frozen=True)
class Lookup:
    """One status lookup: a search with a valid query, or a detail page view."""

    id: int
    payer: str
    kind: LookupKind
    page: LookupPage
    key: str  # claim_number, member, reference_number or certification_number
    at: datetime
    username: str
    numbers: tuple[str, ...]  # claim numbers or references shown, newest first
    category: str  # of the first record shown, or "not_found"

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "payer": self.payer,
            "kind": self.kind,
            "page": self.page,
            "key": self.key,
            "at": self.at.isoformat(),
            "username": self.username,
            "found": len(self.numbers),
            "numbers": list(self.numbers),
            "category": self.category,
        }


@dataclass(frozen=True)
class ServedDocument:
    payer: str
    kind: str  # eob, approval_letter, denial_letter
    number: str  # the claim number or auth reference
    at: datetime

    def as_json(self) -> dict[str, Any]:
        return {"payer": self.payer, "kind": self.kind, "number": self.number, "at": self.at.isoformat()}


@dataclass
class LookupLog:
    lookups: list[Lookup] = field(default_factory=list)
    documents: list[ServedDocument] = field(default_factory=list)

    def lookup(
        self,
        *,
        payer: str,
        kind: LookupKind,
        page: LookupPage,
        key: str,
        at: datetime,
        username: str,
        numbers: tuple[str, ...],
        category: str,
    ) -> Lookup:
        entry = Lookup(len(self.lookups) + 1, payer, kind, page, key, at, username, numbers, category)
        self.lookups.append(entry)
        return entry

    def document(self, *, payer: str, kind: str, number: str, at: datetime) -> None:
        self.documents.append(ServedDocument(payer, kind, number, at))
