"""The destination policy for webhook URLs: literal addresses in every spelling, names resolving
inside, the allow list."""

from __future__ import annotations

import pytest

from runner.core.destinations import AddressGuard
from runner.core.system import System
from runner.core.webhooks.errors import UnsafeWebhookUrl
from tests.support.destinations import REFUSED, fake_resolver


def guard(*allow: str, require_https: bool = False) -> AddressGuard:
    return AddressGuard(
        allow, noun="webhook", error=UnsafeWebhookUrl, require_https=require_https, resolver=fake_resolver
    )


@pytest.mark.parametrize(("url", "reason"), REFUSED)
def test_internal_literals_are_refused_in_any_spelling(url: str, reason: str) -> None:
    with pytest.raises(UnsafeWebhookUrl) as caught:
        guard().check_url(url)
    assert reason in caught.value.message
    with pytest.raises(UnsafeWebhookUrl):
        guard().target(url)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://evil.example.com/hook", "private"),
        ("https://metadata.example.com/", "link-local"),
        ("https://mixed.example.com/", "loopback"),
        ("https://mapped.example.com/", "IPv4-mapped"),
    ],
)
def test_names_resolving_inside_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeWebhookUrl) as caught:
        guard().target(url)
    assert reason in caught.value.message
    with pytest.raises(UnsafeWebhookUrl, match=reason):
        guard().check_url(url)


def test_public_addresses_pass_and_the_checked_address_is_the_target() -> None:
    target = guard().target("https://hooks.example.com/h?x=1")
    assert (target.host, target.port, target.address) == ("hooks.example.com", 443, "93.184.216.34")
    assert guard().target("http://public6.example.com:8080/").address == "2606:2800:220:1:248:1893:25c8:1946"
    assert guard().target("http://8.8.8.8/").address == "8.8.8.8"


def test_the_allow_list_takes_hosts_and_networks() -> None:
    allowing = guard("127.0.0.1", "10.0.0.0/8", "receiver.internal")
    assert allowing.target("http://127.0.0.1:9000/").address == "127.0.0.1"
    assert allowing.target("http://127.1:9000/").address == "127.0.0.1"  # same address, other spelling
    assert allowing.target("http://evil.example.com/").address == "10.0.0.5"
    assert allowing.target("http://receiver.internal/").address == "10.9.9.9"
    with pytest.raises(UnsafeWebhookUrl):
        allowing.target("http://127.0.0.2/")
    with pytest.raises(UnsafeWebhookUrl):
        allowing.target("http://169.254.169.254/")


def test_the_allow_list_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    AddressGuard.from_setting("127.0.0.1, 10.0.0.0/8")
    assert "SOPWRIGHT_ALLOW_HOSTS: 127.0.0.1/32, 10.0.0.0/8" in caplog.text


@pytest.mark.parametrize(
    "url", ["ftp://hooks.example.com/", "hooks.example.com/x", "https://", "http://[::1"]
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(UnsafeWebhookUrl):
        guard().check_url(url)


def test_production_requires_https() -> None:
    with pytest.raises(UnsafeWebhookUrl, match="https"):
        guard(require_https=True).check_url("http://hooks.example.com/")
    assert guard(require_https=True).check_url("https://hooks.example.com/") == "https://hooks.example.com/"


def test_an_unresolvable_name_is_accepted_at_configuration_but_not_delivered_to() -> None:
    assert guard().check_url("https://not-yet.example.com/") == "https://not-yet.example.com/"
    with pytest.raises(UnsafeWebhookUrl, match="does not resolve"):
        guard().target("https://not-yet.example.com/")


def test_the_real_resolver_refuses_localhost() -> None:
    with pytest.raises(UnsafeWebhookUrl, match="loopback"):
        AddressGuard(error=UnsafeWebhookUrl).target("http://localhost:8000/")


def test_accounts_check_the_url_when_it_is_configured(system: System) -> None:
    """Wired by `system.build`; the test settings allow 127.0.0.1 only."""
    with pytest.raises(UnsafeWebhookUrl, match="link-local"):
        system.accounts.create("Metadata", webhook_url="http://169.254.169.254/latest/meta-data/")
    with pytest.raises(UnsafeWebhookUrl, match="loopback"):
        system.accounts.create("Loopback", webhook_url="http://127.0.0.2:9/")
    account = system.accounts.create("Clinic", webhook_url="http://127.0.0.1:9/hooks").account
    with pytest.raises(UnsafeWebhookUrl, match="private"):
        system.accounts.set_webhook_url(account.id, "http://10.0.0.8/hooks")
    assert system.accounts.find("Clinic").webhook_url == "http://127.0.0.1:9/hooks"
