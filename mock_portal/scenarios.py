"""Magic member ids that select an outcome, like the scenario ids of real payer sandboxes.

The table below is the single source: README.md repeats it and a unit test checks they agree.
Any member id not on file is "not found"; a date of birth that differs from the one on file is a
DOB mismatch (AAA 71) for every member.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Scenario(StrEnum):
    HAPPY = "happy"
    INACTIVE = "inactive"
    PAYER_UNAVAILABLE = "payer_unavailable"
    CLAIM_REJECTED = "claim_rejected"
    CLAIM_DENIED = "claim_denied"
    AUTH_PARTIAL = "auth_partial"
    AUTH_DENIED = "auth_denied"
    AUTH_PENDED_APPROVED = "auth_pended_approved"
    AUTH_PENDED_DENIED = "auth_pended_denied"
    AUTH_NOT_REQUIRED = "auth_not_required"
    AUTH_PENDED_LONG = "auth_pended_long"
    APPEALS = "appeals"


@dataclass(frozen=True)
class MagicMember:
    member_id: str
    scenario: Scenario
    effect: str


MAGIC_MEMBERS: tuple[MagicMember, ...] = (
    MagicMember(
        "SYN100001",
        Scenario.HAPPY,
        "Active coverage with benefits; claims accepted and paid (80%, CO-45 adjustment); auths approved",
    ),
    MagicMember(
        "SYN100002", Scenario.INACTIVE, "Coverage inactive (ended Dec 31 last year); claims rejected"
    ),
    MagicMember(
        "SYN100042", Scenario.PAYER_UNAVAILABLE, "Eligibility: payer unavailable, try later (AAA 42)"
    ),
    MagicMember(
        "SYN100010", Scenario.CLAIM_REJECTED, "Claims: front-end rejection with reasons, no claim number"
    ),
    MagicMember(
        "SYN100011",
        Scenario.CLAIM_DENIED,
        "Claims: accepted, then finalized as denied with CO-50 (appealable)",
    ),
    MagicMember("SYN100020", Scenario.AUTH_PARTIAL, "Prior auth: partially approved (half the units)"),
    MagicMember("SYN100021", Scenario.AUTH_DENIED, "Prior auth: denied, not medically necessary"),
    MagicMember(
        "SYN100022", Scenario.AUTH_PENDED_APPROVED, "Prior auth: pended, approved after N polls/minutes"
    ),
    MagicMember("SYN100023", Scenario.AUTH_PENDED_DENIED, "Prior auth: pended, denied after N polls/minutes"),
    MagicMember("SYN100024", Scenario.AUTH_NOT_REQUIRED, "Prior auth: no authorization required"),
    MagicMember(
        "SYN100025",
        Scenario.AUTH_PENDED_LONG,
        "Prior auth: pended, stays pended for 90 days of portal clock whatever the lookups (then approved)",
    ),
    MagicMember(
        "SYN100030", Scenario.APPEALS, "Has seeded claims: denied, paid, denied with an appeal on file"
    ),
)

_BY_ID = {m.member_id: m.scenario for m in MAGIC_MEMBERS}


def scenario_for(member_id: str) -> Scenario:
    return _BY_ID.get(member_id, Scenario.HAPPY)
