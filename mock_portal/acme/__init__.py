"""Acme Health: a payer-direct portal (password + TOTP, single-page forms, an auth wizard)."""

from __future__ import annotations

from fastapi import APIRouter

from mock_portal.acme import appeals, auths, claims, eligibility, signin

router = APIRouter(include_in_schema=False)  # HTML pages: the OpenAPI docs are for /_mock/
for _module in (signin, eligibility, claims, auths, appeals):
    router.include_router(_module.router)
