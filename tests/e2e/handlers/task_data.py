"""Task data for the mock portal's magic members (fixtures/portal/members.yaml), dates relative
to today so the tests never go stale. Each builder returns the `data` text a client would send."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Member:
    member_id: str
    first: str
    last: str
    dob: str


HAPPY = Member("SYN100001", "Ada", "Testmember", "1980-04-12")
INACTIVE = Member("SYN100002", "Ben", "Inactiveton", "1975-09-30")
UNAVAILABLE = Member("SYN100042", "Cy", "Unavailable", "1970-10-10")
REJECTED = Member("SYN100010", "Dee", "Rejectson", "1990-01-15")
CLAIM_DENIED = Member("SYN100011", "Eve", "Deniedclaim", "1968-07-04")  # finalized denied, CO-50
AUTH_PARTIAL = Member("SYN100020", "Fay", "Partialauth", "1985-02-28")
AUTH_DENIED = Member("SYN100021", "Gus", "Deniedauth", "1959-11-11")
AUTH_PENDED = Member("SYN100022", "Hal", "Pendedapprove", "1972-03-03")
AUTH_PENDED_DENIED = Member("SYN100023", "Ivy", "Pendeddeny", "1993-08-21")
AUTH_PENDED_LONG = Member("SYN100025", "Lee", "Longpended", "1966-06-16")
APPEALS = Member("SYN100030", "Kai", "Appealpatient", "1988-05-17")
NOBODY = Member("SYN999999", "Nora", "Nobody", "1981-01-01")

# The denied, not yet appealed claim each payer has on file for APPEALS (fixtures/portal/claims.yaml).
DENIED_CLAIM = {"acme": "2600100000101", "beacon": "BX26A0000101"}
PAID_CLAIM = {"acme": "2600100000102", "beacon": "BX26A0000102"}
APPEALED_CLAIM = {"acme": "2600100000103", "beacon": "BX26A0000103"}
# How a task names the payer: Acme directly; on the exchange, the exchange and the health plan.
PAYER = {"acme": "Acme Health", "beacon": "Beacon Exchange / Acme Health"}
PAYER_IDS = {"Acme Health": "ACMEH"}  # Beacon's payer directory (fixtures/portal/payer_directory.yaml)


def _patient(member: Member, payer: str) -> str:
    return (
        f"member id: {member.member_id}\npatient: {member.first} {member.last}\n"
        f"date of birth: {member.dob}\npayer: {PAYER[payer]}\n"
    )


def eligibility(payer: str, member: Member = HAPPY, *, npi: str = "2000000002") -> str:
    return _patient(member, payer) + f"provider npi: {npi}\nservice type: 30\n"


def claim(
    payer: str, member: Member = HAPPY, *, days_ago: int = 3, charges: tuple[str, ...] = ("185.00",)
) -> str:
    day = (date.today() - timedelta(days=days_ago)).isoformat()
    codes = ["99214", "97110", "J1100", "93000", "99213"]
    lines = "".join(
        f"service line: cpt={codes[i]}, units={i + 1}, charge={charge}, pointers={'AB' if i == 0 else 'A'}\n"
        for i, charge in enumerate(charges)
    )
    return (
        _patient(member, payer)
        + "billing npi: 2000000010\nrendering npi: 2123456784\ntax id: 12-3456789\n"
        + f"patient account number: ACCT-{member.member_id[-4:]}\nservice date: {day}\nplace of service: 11\n"
        + "diagnosis: E11.9, I10\n"
        + lines
    )


def authorization(payer: str, member: Member = HAPPY) -> str:
    start = date.today() + timedelta(days=14)
    return (
        _patient(member, payer)
        + "requesting npi: 2000000002\nservicing npi: 2999999990\ndiagnosis: M54.50, M51.16\n"
        + "procedure: cpt=97110, units=12, unit_type=visits\nprocedure: cpt=72148, units=1\n"
        + f"service from: {start.isoformat()}\nservice to: {(start + timedelta(days=60)).isoformat()}\n"
        + "place of service: 11\nurgency: standard\n"
        + "clinical notes: Low back pain with radiculopathy for 10 weeks; failed conservative therapy.\n"
    )


def appeal(payer: str, claim_number: str | None = None, member: Member = APPEALS) -> str:
    return (
        f"claim number: {claim_number or DENIED_CLAIM[payer]}\n"
        + _patient(member, payer)
        + "reason category: medical necessity\n"
        + "reason: Office notes attached show the visit was medically necessary.\n"
        + "contact: Sam Placeholder\nphone: (555) 201-0100\n"
    )


def claim_status(
    payer: str, *, claim_number: str | None = None, member: Member | None = None, days_ago: int = 3
) -> str:
    """A claim status check by the payer's claim number, or by member and the day of `claim()`."""
    if claim_number is not None:
        return f"payer: {PAYER[payer]}\nclaim number: {claim_number}\n"
    assert member is not None
    day = (date.today() - timedelta(days=days_ago)).isoformat()
    return _patient(member, payer) + f"date of service: {day}\nbilling npi: 2000000010\n"


def authorization_status(
    payer: str,
    *,
    reference: str | None = None,
    certification: str | None = None,
    member: Member | None = None,
) -> str:
    """An authorization status check by reference, certification number, or member + the
    procedure and dates of `authorization()`."""
    if reference is not None:
        return f"payer: {PAYER[payer]}\nreference number: {reference}\n"
    if certification is not None:
        return f"payer: {PAYER[payer]}\ncertification number: {certification}\n"
    assert member is not None
    start = date.today() + timedelta(days=14)
    return _patient(member, payer) + f"cpt: 97110\nfrom: {start.isoformat()}\nrequesting npi: 2000000002\n"
