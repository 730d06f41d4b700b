from __future__ import annotations

from fastapi import APIRouter

from mock_portal.pages import Pages


def router(pages: Pages) -> APIRouter:
    return APIRouter()
