"""Fixtures for the mock portal's unit tier: a fresh portal, its state, and HTTP clients (no browser)."""

from __future__ import annotations

from collections.abc import Iterator

import pyotp
import pytest
from fastapi.testclient import TestClient

from mock_portal.app import create_app
from mock_portal.portal import Portal, PortalConfig
from mock_portal.seed import DEFAULT_FIXTURES, load_seed
from mock_portal.store import PortalState
from tests.unit.mock_portal.portal_samples import NOW

ACME_USER = {"username": "acme.biller", "password": "Synthetic#Pass1"}
BEACON_USER = {"username": "beacon.biller", "password": "Synthetic#Pass3"}


@pytest.fixture
def state() -> PortalState:
    """Seeded state with the clock pinned at NOW (mid-June, so coverage is active)."""
    return PortalState(load_seed(DEFAULT_FIXTURES, NOW), NOW)


@pytest.fixture
def portal() -> Portal:
    return Portal(PortalConfig())


@pytest.fixture
def web() -> Iterator[TestClient]:
    """An HTTP client of a fresh portal with the admin API on."""
    with TestClient(create_app(PortalConfig(admin=True))) as client:
        yield client


def totp(web: TestClient, payer: str, username: str) -> str:
    users = web.get("/_mock/users").json()[payer]
    secret = next(u["totp_secret"] for u in users if u["username"] == username)
    return pyotp.TOTP(secret).now()


@pytest.fixture
def acme(web: TestClient) -> TestClient:
    """Signed in to Acme Health."""
    web.post("/acme/login", data=ACME_USER)
    response = web.post("/acme/login/verify", data={"code": totp(web, "acme", "acme.biller")})
    assert response.url.path == "/acme/home"
    return web


@pytest.fixture
def beacon(web: TestClient) -> TestClient:
    """Signed in to Beacon Exchange, terms acknowledged, context chosen."""
    web.post("/beacon/login", data=BEACON_USER)
    web.post("/beacon/verify", data={"otp": totp(web, "beacon", "beacon.biller")})
    web.post("/beacon/security-notice", data={"agree": "yes"})
    response = web.post("/beacon/select-context", data={"tax_id": "123456789", "npi": "2000000002"})
    assert response.url.path == "/beacon/dashboard"
    return web
