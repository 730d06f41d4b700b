"""Beacon Exchange: a multi-payer exchange (security acknowledgement, provider context, payer
typeahead, workflows inside an iframe, pended results, soft duplicate warnings)."""

from __future__ import annotations

from fastapi import APIRouter

from mock_portal.beacon import auths, claims, disputes, eligibility, signin

router = APIRouter(include_in_schema=False)  # HTML pages: the OpenAPI docs are for /_mock/
for _module in (signin, eligibility, claims, auths, disputes):
    router.include_router(_module.router)
