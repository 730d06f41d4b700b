"""Acme Health: a payer-direct portal (password + TOTP, single-page forms, an auth wizard)."""

from __future__ import annotations

from fastapi import APIRouter

from mock_portal.acme import appeals, auth_status, auths, claim_status, claims, eligibility, signin

router = APIRouter(include_in_schema=False)  # HTML pages: the OpenAPI docs are for /_mock/
# claims (/claims/new) before claim_status (/claims/{claim_number}); the same for auths
for _module in (signin, eligibility, claims, claim_status, auths, auth_status, appeals):
    router.include_router(_module.router)
