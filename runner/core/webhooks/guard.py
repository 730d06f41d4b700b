"""The SSRF guard: webhook URLs must name public addresses, checked at configuration and per attempt.

Every spelling of an address is judged as the address it denotes: `2130706433`, `0177.0.0.1`,
`0x7f.1` and `127.1` are all 127.0.0.1 (inet_aton rules), `[::ffff:127.0.0.1]` is IPv4-mapped.
Names are resolved and *every* address must pass; the dispatcher then connects to the address that
was checked (see transport.py), so a DNS answer that changes between check and connect cannot
redirect it. Internal destinations are allowed only through `SOPWRIGHT_WEBHOOK_ALLOW_HOSTS`.
"""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from runner.core.webhooks.errors import UnsafeWebhookUrl

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.IGNORECASE)
_V4 = ipaddress.IPv4Network
_V6 = ipaddress.IPv6Network
# Named first so that the refusal says why; anything else that is not globally routable is
# refused too (see `refusal`).
_RULES: list[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str]] = [
    (_V4("0.0.0.0/8"), "unspecified/'this network'"),
    (_V4("10.0.0.0/8"), "private"),
    (_V4("100.64.0.0/10"), "shared (CGNAT)"),
    (_V4("127.0.0.0/8"), "loopback"),
    (_V4("169.254.0.0/16"), "link-local (cloud metadata)"),
    (_V4("172.16.0.0/12"), "private"),
    (_V4("192.0.0.0/24"), "IETF protocol assignments"),
    (_V4("192.0.2.0/24"), "documentation"),
    (_V4("192.88.99.0/24"), "6to4 relay"),
    (_V4("192.168.0.0/16"), "private"),
    (_V4("198.18.0.0/15"), "benchmarking"),
    (_V4("198.51.100.0/24"), "documentation"),
    (_V4("203.0.113.0/24"), "documentation"),
    (_V4("224.0.0.0/4"), "multicast"),
    (_V4("240.0.0.0/4"), "reserved"),
    (_V6("::/128"), "unspecified"),
    (_V6("::1/128"), "loopback"),
    (_V6("::ffff:0:0/96"), "IPv4-mapped"),
    (_V6("::/96"), "IPv4-compatible"),
    (_V6("64:ff9b::/96"), "NAT64"),
    (_V6("64:ff9b:1::/48"), "NAT64"),
    (_V6("100::/64"), "discard-only"),
    (_V6("2001::/32"), "Teredo"),
    (_V6("2001:db8::/32"), "documentation"),
    (_V6("2002::/16"), "6to4"),
    (_V6("fc00::/7"), "unique-local"),
    (_V6("fe80::/10"), "link-local"),
    (_V6("fec0::/10"), "site-local"),
    (_V6("ff00::/8"), "multicast"),
]


def parse_host_address(host: str) -> IPAddress | None:
    """The address a literal host denotes (any IPv4 spelling inet_aton accepts), else None."""
    host = host.strip("[]")
    if "%" in host:
        raise UnsafeWebhookUrl("IPv6 zone ids are not allowed in webhook URLs.", host=host)
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if not _NUMERIC_HOST.match(host):
        return None
    parts = [_number(p, host) for p in host.rstrip(".").split(".")]
    # inet_aton: the last part fills every byte that the earlier parts did not.
    value, width = 0, 4
    for part in parts[:-1]:
        if part > 0xFF:
            raise UnsafeWebhookUrl(f"The host {host!r} is not a valid address.", host=host)
        value = (value << 8) | part
        width -= 1
    if parts[-1] >= 1 << (8 * width):
        raise UnsafeWebhookUrl(f"The host {host!r} is not a valid address.", host=host)
    return ipaddress.IPv4Address((value << (8 * width)) | parts[-1])


def _number(part: str, host: str) -> int:
    try:
        if part.lower().startswith("0x"):
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part, 8)
        return int(part)
    except ValueError:
        raise UnsafeWebhookUrl(f"The host {host!r} is not a valid address.", host=host) from None


def refusal(address: IPAddress) -> str | None:
    """Why `address` must not receive webhooks, or None if it is a public unicast address."""
    for network, label in _RULES:
        if address.version == network.version and address in network:
            return label
    if address.is_multicast or address.is_reserved or address.is_private or not address.is_global:
        return "not globally routable"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


@dataclass(frozen=True)
class Target:
    """A URL judged safe, and the address to connect to (the one that was checked)."""

    url: str
    host: str
    port: int
    address: str


class AddressGuard:
    def __init__(
        self,
        allow: Sequence[str] = (),
        *,
        require_https: bool = False,
        resolver: Resolver = system_resolver,
    ) -> None:
        self._networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
        self._names: set[str] = set()
        for entry in (e.strip() for e in allow):
            if not entry:
                continue
            try:
                self._networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                self._names.add(entry.lower().rstrip("."))
        self._require_https = require_https
        self._resolver = resolver
        if self._networks or self._names:
            log.warning(
                "webhook SSRF guard: internal destinations allowed by SOPWRIGHT_WEBHOOK_ALLOW_HOSTS: %s",
                ", ".join([*map(str, self._networks), *sorted(self._names)]),
            )

    @classmethod
    def from_setting(cls, allow_hosts: str | None, *, require_https: bool = False) -> AddressGuard:
        return cls((allow_hosts or "").split(","), require_https=require_https)

    def check_url(self, url: str) -> str:
        """At configuration: refuse a URL that is malformed or names an internal address.

        A name that does not resolve (yet) is accepted with a warning: every delivery checks again.
        """
        parsed = self._parse(url)
        try:
            self._check(parsed)
        except _Unresolvable:
            log.warning(
                "webhook URL host does not resolve now; it is checked again on each delivery",
                extra={"host": parsed.host},
            )
        return str(parsed)

    def target(self, url: str) -> Target:
        """At delivery: the checked address to connect to; UnsafeWebhookUrl if there is none."""
        parsed = self._parse(url)
        try:
            address = self._check(parsed)
        except _Unresolvable as exc:
            raise UnsafeWebhookUrl(
                f"The webhook host {parsed.host!r} does not resolve.", host=parsed.host
            ) from exc
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        return Target(url=str(parsed), host=parsed.host, port=port, address=address)

    def _parse(self, url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url.strip())
        except (httpx.InvalidURL, TypeError) as exc:
            # httpx refuses some spellings (e.g. octal `0177.0.0.1`): say what they denote.
            try:
                literal = parse_host_address(urlsplit(url.strip()).hostname or "")
            except ValueError:
                literal = None
            reason = refusal(literal) if literal is not None else None
            if literal is not None and reason:
                raise UnsafeWebhookUrl(
                    f"The webhook URL's host is a {reason} address ({literal}).",
                    address=str(literal),
                    reason=reason,
                ) from None
            raise UnsafeWebhookUrl(f"The webhook URL is not valid: {exc}.") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise UnsafeWebhookUrl(
                "The webhook URL must be an absolute http(s) URL, e.g. https://example.com/hooks."
            )
        if self._require_https and parsed.scheme != "https":
            raise UnsafeWebhookUrl("In production, webhook URLs must use https.", scheme=parsed.scheme)
        return parsed

    def _check(self, url: httpx.URL) -> str:
        """The first address of the URL's host, after every one of its addresses passed."""
        host = url.host.lower().rstrip(".")
        port = url.port or (443 if url.scheme == "https" else 80)
        literal = parse_host_address(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            try:
                addresses = [ipaddress.ip_address(a) for a in self._resolver(host, port)]
            except (OSError, UnicodeError, ValueError) as exc:
                raise _Unresolvable(host) from exc
            if not addresses:
                raise _Unresolvable(host)
        if host in self._names:
            return str(addresses[0])
        for address in addresses:
            reason = refusal(address)
            if reason and not any(address.version == n.version and address in n for n in self._networks):
                raise UnsafeWebhookUrl(
                    f"The webhook URL's host {url.host!r} is a {reason} address ({address}); webhooks "
                    "go only to public addresses (an operator may allow it with "
                    "SOPWRIGHT_WEBHOOK_ALLOW_HOSTS).",
                    host=url.host,
                    address=str(address),
                    reason=reason,
                )
        return str(addresses[0])


class _Unresolvable(Exception):
    pass
