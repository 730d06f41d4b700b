"""The SSRF guard: literal addresses in every spelling, names resolving inside, the allow list."""

from __future__ import annotations

import pytest

from runner.core.system import System
from runner.core.webhooks.errors import UnsafeWebhookUrl
from runner.core.webhooks.guard import AddressGuard

REFUSED = [
    ("http://127.0.0.1/", "loopback"),
    ("http://localhost/", "loopback"),
    ("http://2130706433/", "loopback"),  # decimal
    ("http://0177.0.0.1/", "loopback"),  # octal
    ("http://0x7f.1/", "loopback"),  # hex, short
    ("http://0x7f000001/", "loopback"),
    ("http://127.1/", "loopback"),  # short
    ("http://127.0.0.1.:8080/", "loopback"),  # trailing dot
    ("http://[::1]/", "loopback"),
    ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
    ("http://[::ffff:8.8.8.8]/", "IPv4-mapped"),
    ("http://[::127.0.0.1]/", "IPv4-compatible"),
    ("http://0.0.0.0/", "unspecified"),
    ("http://0/", "unspecified"),
    ("http://[::]/", "unspecified"),
    ("http://10.1.2.3/", "private"),
    ("http://172.16.0.1/", "private"),
    ("http://172.31.255.255/", "private"),
    ("http://192.168.1.1/", "private"),
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://100.64.0.1/", "CGNAT"),
    ("http://100.127.255.254/", "CGNAT"),
    ("http://[fc00::1]/", "unique-local"),
    ("http://[fd12:3456::1]/", "unique-local"),
    ("http://[fe80::1]/", "link-local"),
    ("http://224.0.0.1/", "multicast"),
    ("http://[ff02::1]/", "multicast"),
    ("http://240.0.0.1/", "reserved"),
    ("http://255.255.255.255/", "reserved"),
    ("http://198.18.0.1/", "benchmarking"),
    ("http://192.0.2.1/", "documentation"),
    ("http://[2001:db8::1]/", "documentation"),
    ("http://[64:ff9b::7f00:1]/", "NAT64"),
    ("http://[2002:7f00:1::]/", "6to4"),
    ("http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "Teredo"),
]

NAMES = {
    "hooks.example.com": ["93.184.216.34"],
    "public6.example.com": ["2606:2800:220:1:248:1893:25c8:1946"],
    "evil.example.com": ["10.0.0.5"],
    "metadata.example.com": ["169.254.169.254"],
    "mixed.example.com": ["93.184.216.34", "127.0.0.1"],  # every address must pass
    "mapped.example.com": ["::ffff:10.0.0.1"],
    "localhost": ["127.0.0.1", "::1"],
    "receiver.internal": ["10.9.9.9"],
}


def fake_resolver(host: str, port: int) -> list[str]:
    if host not in NAMES:
        raise OSError("name does not resolve")
    return NAMES[host]


def guard(*allow: str, require_https: bool = False) -> AddressGuard:
    return AddressGuard(allow, require_https=require_https, resolver=fake_resolver)


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
    guard("127.0.0.1")
    assert "SOPWRIGHT_WEBHOOK_ALLOW_HOSTS" in caplog.text


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
        AddressGuard().target("http://localhost:8000/")


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
