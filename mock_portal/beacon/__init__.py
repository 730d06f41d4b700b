from __future__ import annotations

from fastapi import APIRouter

from mock_portal.pages import Pages


def beacon_router(pages: Pages) -> APIRouter:
    return APIRouter()
