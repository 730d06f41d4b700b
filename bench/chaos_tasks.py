"""The chaos run's tasks: all four types on both mock payers, each for a patient of its own, so that
every portal submission maps back to one task by its member id (the inspection API shows it).

The patients (`SYN7nnnnn`, happy path) are added to a copy of the portal's fixtures, with one
denied, appealable claim each for the appeal tasks (an appeal of a claim that already has one on
file is refused as a duplicate). One patient per task is also what keeps the portal lookups that
reconciliation relies on unambiguous: a member's newest few requests are what it checks.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TYPES = ("check_eligibility", "submit_claim", "submit_prior_authorization", "submit_appeal")
PAYERS = ("acme", "beacon")
KIND = {"submit_claim": "claim", "submit_prior_authorization": "prior_auth", "submit_appeal": "appeal"}
# How a task names the payer: Acme directly; on the exchange, the exchange and the health plan.
PAYER_NAME = {"acme": "Acme Health", "beacon": "Beacon Exchange / Acme Health"}
LAST_NAME, DOB = "Chaosmember", "1980-04-12"


@dataclass(frozen=True)
class ChaosTask:
    number: int
    type: str
    payer: str
    data: str
    member_id: str  # its patient's, unique to the task

    @property
    def submits(self) -> bool:
        return self.type in KIND


def member_of(number: int) -> str:
    return f"SYN7{number:05d}"


def denied_claim_number(payer: str, number: int) -> str:
    """A claim number in the payer's format, outside the range of the seeded and issued ones."""
    return f"2600200{number:06d}" if payer == "acme" else f"BX26C{number:07d}"


def chaos_tasks(
    count: int, *, types: Sequence[str] = TYPES, payers: Sequence[str] = PAYERS, first: int = 0
) -> list[ChaosTask]:
    """`count` tasks (numbered from `first`) cycling through the types, and through the payers
    every round of types (`bench/concurrency.py` runs them too, with a subset of either)."""
    today = date.today()
    tasks = []
    for n in range(first, first + count):
        kind, payer = types[n % len(types)], payers[(n // len(types)) % len(payers)]
        member = member_of(n)
        who = f"member id: {member}\npatient: Ada {LAST_NAME}\ndate of birth: {DOB}\n"
        who += f"payer: {PAYER_NAME[payer]}\n"
        if kind == "check_eligibility":
            data = who + "provider npi: 2000000002\nservice type: 30\n"
        elif kind == "submit_claim":
            day = (today - timedelta(days=3)).isoformat()
            data = (
                who + "billing npi: 2000000010\nrendering npi: 2123456784\ntax id: 12-3456789\n"
                f"patient account number: CHAOS-{n:04d}\nservice date: {day}\nplace of service: 11\n"
                "diagnosis: E11.9, I10\n"
                f"service line: cpt=99214, units=1, charge={100 + n / 100:.2f}, pointers=AB\n"
            )
        elif kind == "submit_prior_authorization":
            start = today + timedelta(days=14)
            data = (
                who + "requesting npi: 2000000002\nservicing npi: 2999999990\ndiagnosis: M54.50\n"
                f"procedure: cpt=97110, units=12, unit_type=visits\nservice from: {start.isoformat()}\n"
                f"service to: {(start + timedelta(days=60)).isoformat()}\nplace of service: 11\n"
                f"urgency: standard\nclinical notes: Chaos request {n}. Low back pain for 10 weeks.\n"
            )
        else:
            data = (
                f"claim number: {denied_claim_number(payer, n)}\n{who}"
                "reason category: medical necessity\n"
                "reason: Office notes attached show the visit was medically necessary.\n"
                "contact: Sam Placeholder\nphone: (555) 201-0100\n"
            )
        tasks.append(ChaosTask(n, kind, payer, data, member))
    return tasks


def chaos_fixtures(target: Path, tasks: list[ChaosTask]) -> Path:
    """A copy of the portal's fixtures plus a patient per task and a denied claim per appeal task."""
    shutil.copytree(ROOT / "fixtures" / "portal", target)
    members = "".join(
        f"\n- member_id: {t.member_id}\n  first_name: Ada\n  last_name: {LAST_NAME}\n"
        f'  date_of_birth: "{DOB}"\n  coverage: active\n  plan_name: Acme Gold PPO (Synthetic)\n'
        f"  group_number: GRP-7{t.number:04d}\n  network: In network\n  benefits: *gold\n"
        for t in tasks
    )
    claims = "".join(
        f'\n- payer: {t.payer}\n  claim_number: "{denied_claim_number(t.payer, t.number)}"\n'
        f'  member_id: {t.member_id}\n  billing_npi: "2000000002"\n  service_days_ago: 45\n'
        '  status: denied\n  denial_reason: "CO-50: These are non-covered services because this is not '
        'deemed a medical necessity."\n  lines: [{procedure_code: "97110", units: 4, charge: "180.00"}]\n'
        for t in tasks
        if t.type == "submit_appeal"
    )
    for name, extra in (("members.yaml", members), ("claims.yaml", claims)):
        with (target / name).open("a", encoding="utf-8") as sink:
            sink.write(extra)
    return target
