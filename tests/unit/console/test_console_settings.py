"""The Settings page's portal-login form holds portal URLs to the destination policy."""

from __future__ import annotations

import html

import pytest

from runner.core.settings import Settings
from runner.core.system import System
from runner.core.tables import Account
from tests.unit.console.signed import Person


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"allow_hosts": ""})  # as in production: nothing internal


@pytest.fixture
def clinic(system: System) -> Account:
    """Without portal logins: these tests add them through the form."""
    return system.accounts.create("Clinic").account


def login_form(url: str) -> dict[str, str]:
    return {"payer": "acme", "url": url, "username": "biller", "password": "pw"}


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://127.0.0.1:8900/admin", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://10.0.0.7/acme", "private"),
    ],
)
def test_an_internal_portal_url_is_refused_with_the_setting_named(
    system: System, admin: Person, clinic: Account, url: str, reason: str
) -> None:
    response = admin.post("/settings/logins", login_form(url))
    assert response.status_code == 303
    page = html.unescape(admin.client.get(response.headers["location"]).text)
    assert f"is a {reason}" in page and "SOPWRIGHT_ALLOW_HOSTS" in page
    assert system.credentials.of_account(clinic.id) == []


def test_a_public_portal_url_is_saved(system: System, admin: Person, clinic: Account) -> None:
    response = admin.post("/settings/logins", login_form("https://portal.invalid/acme"))
    assert (
        "Portal login biller on acme (Acme Health) saved."
        in admin.client.get(response.headers["location"]).text
    )
    [row] = system.credentials.of_account(clinic.id)
    assert row.url == "https://portal.invalid/acme"


def test_a_login_is_named_in_the_form_or_after_its_portal(
    system: System, admin: Person, clinic: Account
) -> None:
    """The form offers the portal keys with their names; the name typed (or the portal's own)
    is what the logins table shows and what task instructions say."""
    page = html.unescape(admin.client.get("/console/settings").text)
    assert '<option value="beacon">Beacon Exchange</option>' in page and 'name="name"' in page
    form = {
        **login_form("https://portal.invalid/beacon"),
        "payer": "beacon",
        "name": "Beacon Provider Exchange",
    }
    response = admin.post("/settings/logins", form)
    saved = html.unescape(admin.client.get(response.headers["location"]).text)
    assert "Portal login biller on beacon (Beacon Provider Exchange) saved." in saved
    assert "key beacon" in saved
    [row] = system.credentials.of_account(clinic.id)
    assert row.name == "Beacon Provider Exchange"
    response = admin.post("/settings/logins", {**form, "name": "x" * 201})
    assert "portal name" in html.unescape(admin.client.get(response.headers["location"]).text)


def test_a_logins_listing_delay_is_saved_in_minutes_and_shown(
    system: System, admin: Person, clinic: Account
) -> None:
    response = admin.post(
        "/settings/logins", {**login_form("https://portal.invalid/acme"), "listing_delay": "45"}
    )
    page = html.unescape(admin.client.get(response.headers["location"]).text)
    assert "lists a submission within 45 min" in page
    [row] = system.credentials.of_account(clinic.id)
    assert row.listing_delay == 45 * 60
    response = admin.post(
        "/settings/logins", {**login_form("https://portal.invalid/acme"), "listing_delay": "soon"}
    )
    assert "must be whole numbers" in html.unescape(admin.client.get(response.headers["location"]).text)
    response = admin.post(
        "/settings/logins", {**login_form("https://portal.invalid/acme"), "listing_delay": ""}
    )
    [row] = system.credentials.of_account(clinic.id)
    assert row.listing_delay is None  # the worker's setting
