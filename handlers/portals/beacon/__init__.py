"""Beacon Exchange: a multi-payer exchange. Log-in + passcode, a periodic security
acknowledgement, an organization/provider context, every workflow inside an iframe with a payer
typeahead, authorizations pended first, soft duplicate warnings, disputes without numbers."""

from __future__ import annotations

from handlers.context import StepContext
from handlers.portals.beacon import auths, claims, disputes, eligibility, reconcile, session, status
from handlers.registry import PortalHandler
from sops.types import TaskType

KEY = "beacon"
VERSION = "1"


async def upload_documents(ctx: StepContext) -> None:
    """The SOPs of two task types name this step; each form has its own attachments."""
    if ctx.task_type is TaskType.SUBMIT_APPEAL:
        await disputes.upload_dispute_documents(ctx)
    else:
        await auths.upload_authorization_documents(ctx)


def beacon_handler() -> PortalHandler:
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
        "find_claim": disputes.find_claim,
        "fill_appeal": disputes.fill_appeal,
        "submit_appeal": disputes.submit_appeal,
        "capture_appeal_reference": disputes.capture_appeal_reference,
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
    return PortalHandler(
        KEY, session.PORTAL, VERSION, scripts, reconcilers, print_page=session.print_workspace
    )
