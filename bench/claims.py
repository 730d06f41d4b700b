"""The sample claims every benchmark submits: happy-path claims on Acme (member SYN100001), each with
its own charge so that none is a duplicate of another; as task data and as the portal's form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

ACME = "Acme Health"
CLAIM_NUMBER = re.compile(r'data-testid="claim-number"[^>]*>\s*([0-9A-Z-]+)\s*<')


@dataclass(frozen=True)
class Claim:
    """A happy-path claim (member SYN100001); `charge` differs per claim so none is a duplicate."""

    member_id: str
    first_name: str
    last_name: str
    dob: date
    service_date: date
    charge: str
    procedure: str = "99213"
    diagnoses: tuple[str, ...] = ("E11.9", "I10")
    pointers: str = "AB"
    place_of_service: str = "11"
    billing_npi: str = "2000000002"
    tax_id: str = "123456789"

    def task_data(self) -> str:
        return (
            f"member_id: {self.member_id}\npatient: {self.first_name} {self.last_name}\n"
            f"DOB: {self.dob.isoformat()}\npayer: {ACME}\nservice date: {self.service_date.isoformat()}\n"
            f"diagnosis: {', '.join(self.diagnoses)}\nplace of service: {self.place_of_service}\n"
            f"service line: cpt={self.procedure}, units=1, charge={self.charge}, pointers={self.pointers}"
        )

    def form(self) -> dict[str, str]:
        """The Acme claim form's fields, as the browser posts them."""
        fields = {
            "line_count": "1",
            "member_id": self.member_id,
            "patient_first_name": self.first_name,
            "patient_last_name": self.last_name,
            "date_of_birth": us(self.dob),
            "patient_account_number": "",
            "billing_npi": self.billing_npi,
            "tax_id": self.tax_id,
            "rendering_npi": "",
            "line_0_service_date": us(self.service_date),
            "line_0_place_of_service": self.place_of_service,
            "line_0_procedure_code": self.procedure,
            "line_0_modifiers": "",
            "line_0_units": "1",
            "line_0_charge": self.charge,
            "line_0_diagnosis_pointers": self.pointers,
            "resubmission_code": "1",
            "original_claim_number": "",
            "prior_auth_number": "",
            "action": "submit",
        }
        for slot, code in zip("ABCDEFGHIJKL", self.diagnoses, strict=False):
            fields[f"diagnosis_{slot}"] = code
        return fields


def us(day: date) -> str:
    return day.strftime("%m/%d/%Y")


def claims(count: int, *, first: int = 0) -> list[Claim]:
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    dob = date(1980, 4, 12)
    return [
        Claim("SYN100001", "Ada", "Testmember", dob, yesterday, f"{100 + (first + i) / 100:.2f}")
        for i in range(count)
    ]
