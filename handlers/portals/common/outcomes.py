"""Reading a payer's coded answers into the task's result vocabulary (sops/results.py)."""

from __future__ import annotations

from handlers.errors import InputProblem, NeedsInput, NeedsReview, Transient

# X12 AAA reject reasons on eligibility responses, by what a person can do about them.
RETRY_LATER = {"42"}
NOT_FOUND = {"67", "75"}
CORRECTABLE = {
    "58": "date_of_birth",
    "71": "date_of_birth",
    "65": "patient_last_name",
    "73": "patient_last_name",
    "72": "member_id",
    "43": "provider_npi",
}


def eligibility_rejection(portal: str, code: str, message: str) -> str:
    """The failure reason for a "not found" answer; raises for the codes that are not a business
    outcome (retry later, correct the data, or a code this script does not know)."""
    said = f"AAA {code}: {message}" if message else f"AAA {code}"
    if code in RETRY_LATER:
        raise Transient(f"{portal} cannot answer eligibility right now ({said}).")
    if code in CORRECTABLE:
        field = CORRECTABLE[code]
        raise NeedsInput(
            f"{portal} says the {field.replace('_', ' ')} does not match its records ({said}). "
            "Correct it and send the task again.",
            problems=[InputProblem(field, message or said)],
        )
    if code in NOT_FOUND:
        return f"{portal} has no member with this ID and name ({said})"
    raise NeedsReview(
        f"{portal} answered the eligibility check with a reason this script does not know ({said})."
    )


def network(text: str) -> str | None:
    lowered = text.lower()
    if "out" in lowered:
        return "out_of_network"
    return "in_network" if "in" in lowered else None
