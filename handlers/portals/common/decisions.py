"""Settling a prior authorization from the decision the payer showed (sops/results.py names)."""

from __future__ import annotations

from handlers.context import StepContext
from sops.results import AUTH_DECISION_CODES
from sops.types import DocumentKind, Outcome

FINAL_OK = {"approved", "not_required"}


def decision_result(decision: str) -> dict[str, str | None]:
    return {"decision": decision, "decision_code": AUTH_DECISION_CODES.get(decision)}


def settle_authorization(ctx: StepContext) -> None:
    """Finish the task from `ctx.result["decision"]`; a pended request is left for polling
    (`poll_decision` marks it still pending, so the engine looks again)."""
    decision = ctx.result.get("decision")
    if decision == "pended":
        return
    ctx.finish(Outcome.COMPLETED if decision in FINAL_OK else Outcome.COMPLETED_WITH_ISSUES)


def settle_authorization_status(ctx: StepContext) -> None:
    """Finish a status check from `ctx.result["decision"]`: it reports what stands, pended included
    (a follow-up task, not this attempt, looks again later)."""
    decision = ctx.result.get("decision")
    ctx.finish(Outcome.COMPLETED if decision in FINAL_OK else Outcome.COMPLETED_WITH_ISSUES)


def authorization_not_found(ctx: StepContext, message: str) -> None:
    """The payer has no request matching the search: an answer, not a failure (see the SOP)."""
    fields = ctx.fields
    ctx.finish(
        Outcome.COMPLETED_WITH_ISSUES,
        payer_message=message,
        reference_number=fields.get("reference_number"),
        certification_number=fields.get("certification_number"),
    )


def letter_kind(decision: object) -> DocumentKind:
    """What a decision letter is, by the decision it tells."""
    return DocumentKind.DENIAL_LETTER if decision == "denied" else DocumentKind.APPROVAL_LETTER
