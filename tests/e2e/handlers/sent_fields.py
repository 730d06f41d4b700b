"""What the mock portal should have received for a task: the task's fields in the shape of the
inspection API (`GET /_mock/submissions`), so a test compares the whole submission at once."""

from __future__ import annotations

from typing import Any

from tests.e2e.handlers.task_data import PAYER_IDS


def _patient(fields: dict[str, Any]) -> dict[str, Any]:
    return {k: fields[k] for k in ("member_id", "patient_first_name", "patient_last_name", "date_of_birth")}


def expected(task_type: str, fields: dict[str, Any], payer: str) -> dict[str, Any]:
    sent: dict[str, Any] = _patient(fields)
    if task_type == "check_eligibility":
        sent |= {
            "service_date": fields["service_date"],
            "service_type": fields["service_type"],
            "provider_npi": fields["provider_npi"],
        }
    elif task_type == "submit_claim":
        lines = fields["service_lines"]
        sent |= {
            "billing_npi": fields["billing_npi"],
            "tax_id": fields["tax_id"],
            "rendering_npi": fields.get("rendering_npi") or "",
            "diagnosis_codes": fields["diagnosis_codes"],
            "service_lines": [
                {
                    "service_date": line["service_date"],
                    "place_of_service": line["place_of_service"],
                    "procedure_code": line["procedure_code"],
                    "modifiers": line["modifiers"],
                    "units": line["units"],
                    "charge": line["charge"],
                    "diagnosis_pointers": "".join(line["diagnosis_pointers"]),
                }
                for line in lines
            ],
            "total_charge": fields["total_charge"],
            "patient_account_number": fields.get("patient_account_number") or "",
            "prior_auth_number": fields.get("prior_auth_number") or "",
            "resubmission_code": fields.get("resubmission_code") or "1",
            "original_claim_number": fields.get("original_claim_number") or "",
        }
    elif task_type == "submit_prior_authorization":
        sent |= {
            "requesting_npi": fields["requesting_npi"],
            "servicing_npi": fields["servicing_npi"],
            "diagnosis_codes": fields["diagnosis_codes"],
            "procedures": [
                {"procedure_code": p["procedure_code"], "units": p["units"], "unit_type": p["unit_type"]}
                for p in fields["procedures"]
            ],
            "service_from": fields["service_from"],
            "service_to": fields.get("service_to") or fields["service_from"],
            "urgency": fields["urgency"],
            "place_of_service": fields["place_of_service"],
            "clinical_notes": fields.get("clinical_notes") or "",
        }
    else:
        sent |= {
            "claim_number": fields["original_claim_number"],
            "reason_category": fields["reason_category"],
            "reason_text": fields["reason_text"],
            "contact_name": fields["contact_name"],
            "contact_phone": fields["contact_phone"],
        }
    if payer == "beacon" and task_type != "submit_appeal":
        sent["payer_id"] = PAYER_IDS["Acme Health"]  # the health plan chosen in the typeahead
    return sent
