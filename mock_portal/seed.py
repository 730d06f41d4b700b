"""Loading the synthetic seed data (fixtures/portal/*.yaml) into typed records.

Dates in the fixtures are relative (coverage years, "service_days_ago") and are resolved against
the portal clock at seeding time, so the fixtures never go stale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from mock_portal.models import (
    Benefits,
    Claim,
    ClaimStatus,
    Coverage,
    Member,
    Organization,
    Provider,
    ServiceLine,
    User,
)

DEFAULT_FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "portal"


@dataclass(frozen=True)
class SeededAppeal:
    payer: str
    claim_number: str
    member_id: str
    tracking_number: str | None


@dataclass(frozen=True)
class Seed:
    members: dict[str, Member]
    organizations: tuple[Organization, ...]
    users: tuple[User, ...]
    claims: tuple[Claim, ...]
    appeals: tuple[SeededAppeal, ...]
    payer_directory: tuple[tuple[str, str], ...]


def _read(path: Path) -> Any:
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _member(raw: dict[str, Any], today: date) -> Member:
    coverage = Coverage(raw["coverage"])
    if coverage is Coverage.ACTIVE:
        start, end = date(today.year, 1, 1), date(today.year, 12, 31)
    else:
        start, end = date(today.year - 1, 1, 1), date(today.year - 1, 12, 31)
    b = raw["benefits"]
    benefits = Benefits(
        copay_office=Decimal(b["copay_office"]),
        copay_specialist=Decimal(b["copay_specialist"]),
        coinsurance_pct=int(b["coinsurance_pct"]),
        deductible_total=Decimal(b["deductible_total"]),
        deductible_remaining=Decimal(b["deductible_remaining"]),
        oop_total=Decimal(b["oop_total"]),
        oop_remaining=Decimal(b["oop_remaining"]),
    )
    return Member(
        member_id=str(raw["member_id"]),
        first_name=raw["first_name"],
        last_name=raw["last_name"],
        date_of_birth=date.fromisoformat(raw["date_of_birth"]),
        coverage=coverage,
        coverage_start=start,
        coverage_end=end,
        plan_name=raw["plan_name"],
        group_number=raw["group_number"],
        network=raw["network"],
        benefits=benefits,
    )


def _claim(raw: dict[str, Any], members: dict[str, Member], now: datetime) -> Claim:
    member = members[raw["member_id"]]
    service_date = (now - timedelta(days=int(raw["service_days_ago"]))).date()
    lines = tuple(
        ServiceLine(
            service_date=service_date,
            place_of_service="11",
            procedure_code=str(line["procedure_code"]),
            modifiers=(),
            units=int(line["units"]),
            charge=Decimal(line["charge"]),
            diagnosis_pointers="A",
        )
        for line in raw["lines"]
    )
    status = ClaimStatus(raw["status"])
    submitted_at = now - timedelta(days=int(raw["service_days_ago"]) - 2)
    final = status in (ClaimStatus.PAID, ClaimStatus.DENIED)
    return Claim(
        payer=raw["payer"],
        claim_number=str(raw["claim_number"]),
        member_id=member.member_id,
        patient_name=f"{member.first_name} {member.last_name}",
        billing_npi=str(raw["billing_npi"]),
        lines=lines,
        submitted_at=submitted_at,
        status=status,
        final_status=status if final else ClaimStatus.PAID,
        denial_reason=raw.get("denial_reason", ""),
        paid_amount=Decimal(raw.get("paid_amount", "0")),
        finalized_at=min(now, submitted_at + timedelta(days=14)) if final else None,
    )


def load_seed(fixtures_dir: Path, now: datetime) -> Seed:
    """Read every fixture file and resolve relative dates against `now` (the portal clock)."""
    today = now.date()
    members = {m.member_id: m for m in (_member(raw, today) for raw in _read(fixtures_dir / "members.yaml"))}
    organizations = tuple(
        Organization(
            name=org["name"],
            tax_id=str(org["tax_id"]),
            providers=tuple(
                Provider(npi=str(p["npi"]), name=p["name"], org_name=org["name"], tax_id=str(org["tax_id"]))
                for p in org["providers"]
            ),
        )
        for org in _read(fixtures_dir / "providers.yaml")["organizations"]
    )
    users = tuple(
        User(
            payer=payer,
            username=u["username"],
            password=str(u["password"]),
            totp_secret=u["totp_secret"],
            display_name=u["display_name"],
        )
        for payer, entries in _read(fixtures_dir / "users.yaml").items()
        for u in entries
    )
    raw_claims = _read(fixtures_dir / "claims.yaml")
    claims = tuple(_claim(raw, members, now) for raw in raw_claims)
    appeals = tuple(
        SeededAppeal(
            payer=raw["payer"],
            claim_number=str(raw["claim_number"]),
            member_id=raw["member_id"],
            tracking_number=raw["appeal_tracking_number"] or None,
        )
        for raw in raw_claims
        if "appeal_tracking_number" in raw
    )
    directory = tuple((str(p["id"]), p["name"]) for p in _read(fixtures_dir / "payer_directory.yaml"))
    return Seed(members, organizations, users, claims, appeals, directory)
