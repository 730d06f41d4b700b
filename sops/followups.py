"""Follow-ups (DESIGN.md §9): whether a task that ended gets one, and whether a follow-up's check
found what it waits for. Pure: a SOP's `follow_up` and results in, decisions out.

The runner keeps the schedule (runner.core.followups); the child's inputs are rendered by
`sops.render.render_follow_up_inputs`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sops.schema import FollowUp
from sops.types import Outcome

FINALIZED = frozenset({"finalized_paid", "finalized_denied"})


def wanted(follow: FollowUp, outcome: Outcome, result: Mapping[str, Any]) -> bool:
    """Whether a task that ended with `outcome` and `result` gets `follow`: never a failed one;
    otherwise when every `when` key holds one of its values."""
    if outcome is Outcome.FAILED:
        return False
    return all(result.get(key) in values for key, values in follow.when.items())


def settled(until: str, result: Mapping[str, Any]) -> bool:
    """Whether a follow-up's check found the payer's final word (`until` of its SOP)."""
    if until == "finalized":
        return result.get("status_category") in FINALIZED
    decision = result.get("decision")
    return bool(decision) and decision != "pended"


def standing(until: str, result: Mapping[str, Any]) -> str:
    """Where the payer stands, as a clerk says it: "pended", "not finalized (pending)"."""
    if until == "finalized":
        status = str(result.get("status_category") or "not found").replace("_", " ")
        return f"not finalized ({status})"
    decision = result.get("decision")
    return "pended" if decision in (None, "", "pended") else str(decision).replace("_", " ")


def still_open_note(until: str, result: Mapping[str, Any], span: timedelta) -> str:
    """The note of a follow-up that ends at its `for:` without the payer's final word."""
    if until == "finalized":
        return (
            f"Still {standing(until, result)} after {spoken(span)}: the payer has not paid or denied "
            "the claim; follow it up with the payer."
        )
    return f"Still pended after {spoken(span)}: the payer has not decided; follow it up with the payer."


def spoken(span: timedelta) -> str:
    """`14 days`, `6 hours`, `90 minutes`: the largest whole unit."""
    seconds = int(span.total_seconds())
    for unit, size in (("day", 86_400), ("hour", 3600), ("minute", 60)):
        if seconds and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
