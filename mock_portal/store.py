"""The portal's in-memory state: seeded records, everything submitted since, and lookups.

`reset` reseeds from the fixtures; nothing here knows about HTTP or HTML.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from mock_portal.identifiers import Identifiers
from mock_portal.lookups import LookupLog
from mock_portal.models import (
    Appeal,
    AuthRequest,
    Claim,
    Kind,
    Member,
    Organization,
    Provider,
    Submission,
    User,
)
from mock_portal.seed import Seed


class PortalState:
    def __init__(self, seed: Seed, now: datetime) -> None:
        self.members: dict[str, Member] = dict(seed.members)
        self.organizations: tuple[Organization, ...] = seed.organizations
        self.payer_directory: tuple[tuple[str, str], ...] = seed.payer_directory
        self.users: dict[tuple[str, str], User] = {
            (u.payer, u.username): User(u.payer, u.username, u.password, u.totp_secret, u.display_name)
            for u in seed.users
        }
        self.claims: dict[tuple[str, str], Claim] = {(c.payer, c.claim_number): c for c in seed.claims}
        self.auths: dict[tuple[str, str], AuthRequest] = {}
        self.appeals: list[Appeal] = []
        self.submissions: list[Submission] = []
        self.ids = Identifiers()
        self.lookups = LookupLog()
        for seeded in seed.appeals:
            appeal = Appeal(
                payer=seeded.payer,
                appeal_id=self.ids.appeal_id(),
                tracking_number=seeded.tracking_number,
                claim_number=seeded.claim_number,
                member_id=seeded.member_id,
                reason_category="other",
                submitted_at=now,
                status="In review",
            )
            self.appeals.append(appeal)
            self.claims[(seeded.payer, seeded.claim_number)].appeal_ids.append(appeal.appeal_id)

    # -- people -------------------------------------------------------------------------------
    def user(self, payer: str, username: str) -> User | None:
        return self.users.get((payer, username))

    def users_of(self, payer: str) -> list[User]:
        return [u for (p, _), u in self.users.items() if p == payer]

    def member(self, member_id: str) -> Member | None:
        return self.members.get(member_id.strip().upper()) or self.members.get(member_id.strip())

    def provider(self, npi: str) -> Provider | None:
        for org in self.organizations:
            for provider in org.providers:
                if provider.npi == npi:
                    return provider
        return None

    def organization(self, tax_id: str) -> Organization | None:
        return next((o for o in self.organizations if o.tax_id == tax_id), None)

    # -- claims, auths, appeals ---------------------------------------------------------------
    def claim(self, payer: str, claim_number: str) -> Claim | None:
        return self.claims.get((payer, claim_number.strip().upper()))

    def add_claim(self, claim: Claim) -> None:
        self.claims[(claim.payer, claim.claim_number)] = claim

    def search_claims(
        self,
        payer: str,
        *,
        member_id: str = "",
        claim_number: str = "",
        service_from: date | None = None,
        service_to: date | None = None,
        billing_npi: str = "",
    ) -> list[Claim]:
        found = []
        for claim in self.claims.values():
            if claim.payer != payer:
                continue
            if claim_number and claim.claim_number != claim_number.strip().upper():
                continue
            if member_id and claim.member_id != member_id.strip().upper():
                continue
            if service_from and claim.first_service_date < service_from:
                continue
            if service_to and claim.first_service_date > service_to:
                continue
            if billing_npi and claim.billing_npi != billing_npi.strip():
                continue
            found.append(claim)
        return sorted(found, key=lambda c: c.submitted_at, reverse=True)

    def add_auth(self, auth: AuthRequest) -> None:
        self.auths[(auth.payer, auth.reference_number)] = auth

    def auth(self, payer: str, reference_number: str) -> AuthRequest | None:
        return self.auths.get((payer, reference_number.strip().upper()))

    def search_auths(
        self,
        payer: str,
        *,
        member_id: str = "",
        reference_number: str = "",
        certification_number: str = "",
        procedure_code: str = "",
        service_from: date | None = None,
        service_to: date | None = None,
    ) -> list[AuthRequest]:
        """Requests matching every criterion given; dates match when they overlap the request's."""
        code = procedure_code.strip().upper()
        found = [
            a
            for a in self.auths.values()
            if a.payer == payer
            and (not member_id or a.member_id == member_id.strip().upper())
            and (not reference_number or a.reference_number == reference_number.strip().upper())
            and (not certification_number or a.certification_number == certification_number.strip().upper())
            and (not code or any(p["procedure_code"] == code for p in a.procedures))
            and (not service_from or a.service_to >= service_from)
            and (not service_to or a.service_from <= service_to)
        ]
        return sorted(found, key=lambda a: a.submitted_at, reverse=True)

    def appeals_for_claim(self, payer: str, claim_number: str) -> list[Appeal]:
        number = claim_number.strip().upper()
        return [a for a in self.appeals if a.payer == payer and a.claim_number == number]

    # -- inspection -----------------------------------------------------------------------------
    def record(
        self,
        *,
        payer: str,
        kind: Kind,
        username: str,
        now: datetime,
        fields: dict[str, Any],
        outcome: str,
        identifiers: dict[str, str] | None = None,
        files: list[dict[str, Any]] | None = None,
        duplicate: bool = False,
        duplicate_of: str | None = None,
    ) -> Submission:
        submission = Submission(
            id=len(self.submissions) + 1,
            payer=payer,
            kind=kind,
            received_at=now,
            username=username,
            fields=fields,
            files=files or [],
            identifiers={k: v for k, v in (identifiers or {}).items() if v},
            outcome=outcome,
            duplicate=duplicate,
            duplicate_of=duplicate_of,
        )
        self.submissions.append(submission)
        return submission
