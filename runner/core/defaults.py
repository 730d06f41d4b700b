"""Account defaults: the values that fill what a task's data omits, checked when they are set."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runner.core.errors import InvalidRequest
from sops.inputs import codes
from sops.types import TaskType

_SWITCH = {"on": True, "off": False, "true": True, "false": False, "yes": True, "no": False}


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


def _follow_ups(value: Any) -> dict[str, bool]:
    """Per task type, whether its SOP's follow-up is created: `{"submit_claim": false}`."""
    if not isinstance(value, Mapping):
        raise ValueError("give task type = on or off, e.g. submit_claim=off")
    clean: dict[str, bool] = {}
    for key, switch in value.items():
        try:
            task_type = TaskType(str(key).strip())
        except ValueError:
            raise ValueError(f"{key!r} is not a task type ({', '.join(TaskType)})") from None
        word = str(switch).strip().lower() if not isinstance(switch, bool) else ("on" if switch else "off")
        if word not in _SWITCH:
            raise ValueError(f"{task_type}: {switch!r} is neither on nor off")
        clean[task_type.value] = _SWITCH[word]
    return clean


CHECKS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "billing_npi": ("billing NPI", codes.npi),
    "provider_npi": ("provider NPI", codes.npi),
    "tax_id": ("tax ID", codes.ein),
    "place_of_service": ("place of service", codes.place_of_service),
    "payer": ("payer", _payer),
    "timely_filing_days": ("timely-filing days", _days),
    "follow_up": ("follow-ups", _follow_ups),  # runner.core.followups reads it
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
