"""Beacon Exchange: a multi-payer exchange (security acknowledgement, provider context, payer
typeahead, workflows inside an iframe, pended results, soft duplicate warnings)."""

from __future__ import annotations

from fastapi import APIRouter

from mock_portal.beacon import auth_status, auths, claim_status, claims, disputes, eligibility, signin

router = APIRouter(include_in_schema=False)  # HTML pages: the OpenAPI docs are for /_mock/
# claims (/claims/new) before claim_status (/claims/{claim_number}); the same for auths
for _module in (signin, eligibility, claims, claim_status, auths, auth_status, disputes):
    router.include_router(_module.router)
