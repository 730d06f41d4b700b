"""Acme Health: a payer-direct portal. Password + TOTP sign-in, single-page eligibility and claim
forms (a masked date-of-birth input), a four-step prior authorization wizard, appeals with
tracking numbers."""

from __future__ import annotations

from handlers.context import StepContext
from handlers.portals.acme import appeals, auths, claims, eligibility, reconcile, session, status
from handlers.registry import PortalHandler
from sops.types import TaskType

KEY = "acme"
VERSION = "1"


async def upload_documents(ctx: StepContext) -> None:
    """The SOPs of two task types name this step; each has its own upload on Acme."""
    if ctx.task_type is TaskType.SUBMIT_APPEAL:
        await appeals.upload_appeal_documents(ctx)
    else:
        await auths.upload_authorization_documents(ctx)


def acme_handler() -> PortalHandler:
    scripts = {
        "login": session.login,
        "open_eligibility_search": eligibility.open_eligibility_search,
        "fill_eligibility": eligibility.fill_eligibility,
        "read_eligibility_result": eligibility.read_eligibility_result,
        "open_claim_form": claims.open_claim_form,
        "fill_claim": claims.fill_claim,
        "submit_claim": claims.submit_claim,
        "capture_claim_number": claims.capture_claim_number,
        "open_authorization_form": auths.open_authorization_form,
        "fill_patient_and_provider": auths.fill_patient_and_provider,
        "fill_services": auths.fill_services,
        "upload_documents": upload_documents,
        "submit_prior_authorization": auths.submit_prior_authorization,
        "capture_authorization_reference": auths.capture_authorization_reference,
        "poll_decision": auths.poll_decision,
        "find_claim": appeals.find_claim,
        "fill_appeal": appeals.fill_appeal,
        "submit_appeal": appeals.submit_appeal,
        "capture_appeal_reference": appeals.capture_appeal_reference,
        "open_claim_status_search": status.open_claim_status_search,
        "search_claim_status": status.search_claim_status,
        "read_claim_status": status.read_claim_status,
        "open_authorization_status_search": status.open_authorization_status_search,
        "search_authorization_status": status.search_authorization_status,
        "read_authorization_status": status.read_authorization_status,
    }
    reconcilers = {
        TaskType.SUBMIT_CLAIM: reconcile.find_claim_submission,
        TaskType.SUBMIT_PRIOR_AUTHORIZATION: reconcile.find_authorization_submission,
        TaskType.SUBMIT_APPEAL: reconcile.find_appeal_submission,
    }
    return PortalHandler(KEY, session.PORTAL, VERSION, scripts, reconcilers)
