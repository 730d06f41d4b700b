"""Account defaults: the values that fill what a task's data omits, checked when they are set."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runner.core.errors import InvalidRequest
from sops.inputs import codes


def _payer(value: Any) -> str:
    text = str(value).strip().lower()
    if not text or len(text) > 64:
        raise ValueError("the payer must be a short portal key, like acme")
    return text


def _days(value: Any) -> int:
    days = int(value)
    if not 1 <= days <= 3650:
        raise ValueError("the timely-filing window must be between 1 and 3650 days")
    return days


CHECKS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "billing_npi": ("billing NPI", codes.npi),
    "provider_npi": ("provider NPI", codes.npi),
    "tax_id": ("tax ID", codes.ein),
    "place_of_service": ("place of service", codes.place_of_service),
    "payer": ("payer", _payer),
    "timely_filing_days": ("timely-filing days", _days),
}


def validate_defaults(values: Mapping[str, Any]) -> dict[str, Any]:
    """Normalised defaults, or InvalidRequest naming every bad one."""
    clean: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in values.items():
        if key not in CHECKS:
            raise InvalidRequest(f"Unknown default {key!r}; known: {', '.join(CHECKS)}.")
        label, check = CHECKS[key]
        try:
            clean[key] = check(value)
        except ValueError as exc:
            problems.append(f"{label}: {exc}")
    if problems:
        raise InvalidRequest("Invalid defaults: " + "; ".join(problems) + ".", problems=problems)
    return clean
