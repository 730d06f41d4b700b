"""The destination policy: which addresses sopwright may open, for webhooks and for the browser.

One policy, one allow list (`SOPWRIGHT_ALLOW_HOSTS`), checked when a URL is configured (webhook
URLs, portal logins), again before each use (every webhook attempt; every task, before its browser
opens), and by the egress gate for every connection the browser makes (runner.core.egress).

Every spelling of an address is judged as the address it denotes: `2130706433`, `0177.0.0.1`,
`0x7f.1` and `127.1` are all 127.0.0.1 (inet_aton rules), `[::ffff:127.0.0.1]` is IPv4-mapped.
Names are resolved and *every* address must pass; callers then connect to the address that was
checked (webhooks/transport.py, egress.py), so a DNS answer that changes between check and
connect cannot redirect them.
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

from runner.core.errors import UnsafeDestination

log = logging.getLogger(__name__)

ALLOW_SETTING = "SOPWRIGHT_ALLOW_HOSTS"

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
    """The address a literal host denotes (any IPv4 spelling inet_aton accepts), else None.

    BadHost (a ValueError) for a zone id or a numeric host that is no address at all.
    """
    host = host.strip("[]")
    if "%" in host:
        raise BadHost("IPv6 zone ids are not allowed in URLs.", host)
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
            raise BadHost(f"The host {host!r} is not a valid address.", host)
        value = (value << 8) | part
        width -= 1
    if parts[-1] >= 1 << (8 * width):
        raise BadHost(f"The host {host!r} is not a valid address.", host)
    return ipaddress.IPv4Address((value << (8 * width)) | parts[-1])


def _number(part: str, host: str) -> int:
    try:
        if part.lower().startswith("0x"):
            return int(part[2:] or "0", 16)
        if len(part) > 1 and part.startswith("0"):
            return int(part, 8)
        return int(part)
    except ValueError:
        raise BadHost(f"The host {host!r} is not a valid address.", host) from None


def refusal(address: IPAddress) -> str | None:
    """Why `address` must not be opened, or None if it is a public unicast address."""
    for network, label in _RULES:
        if address.version == network.version and address in network:
            return label
    if address.is_multicast or address.is_reserved or address.is_private or not address.is_global:
        return "not globally routable"
    return None


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]).split("%", 1)[0] for info in infos))


class BadHost(ValueError):
    """A host that is no valid address (internal: the guard turns it into its use's error)."""

    def __init__(self, message: str, host: str) -> None:
        super().__init__(message)
        self.message = message
        self.host = host


class Unresolvable(Exception):
    """The host has no address right now (DNS failure or an empty answer)."""

    def __init__(self, host: str) -> None:
        super().__init__(host)
        self.host = host


@dataclass(frozen=True)
class Target:
    """A URL judged safe, and the address to connect to (the one that was checked)."""

    url: str
    host: str
    port: int
    address: str


class AddressGuard:
    """The policy applied for one use: `noun` names the URL in messages ("webhook", "portal") and
    `error` is what a refusal raises, so that each use keeps its own error code."""

    def __init__(
        self,
        allow: Sequence[str] = (),
        *,
        noun: str = "destination",
        error: type[UnsafeDestination] = UnsafeDestination,
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
        self._noun = noun
        self._error = error
        self._require_https = require_https
        self._resolver = resolver

    @classmethod
    def from_setting(cls, allow_hosts: str | None, *, resolver: Resolver = system_resolver) -> AddressGuard:
        """The policy of the allow-list setting (comma-separated host names and CIDR networks)."""
        guard = cls((allow_hosts or "").split(","), resolver=resolver)
        if guard.allowed:
            log.warning(
                "destination policy: internal destinations allowed by %s: %s",
                ALLOW_SETTING,
                ", ".join(guard.allowed),
            )
        return guard

    @property
    def allowed(self) -> list[str]:
        """The allow list as configured (networks, then names)."""
        return [*map(str, self._networks), *sorted(self._names)]

    def for_use(
        self, noun: str, error: type[UnsafeDestination], *, require_https: bool = False
    ) -> AddressGuard:
        """The same policy (allow list, resolver), worded and raising for another use."""
        guard = AddressGuard((), noun=noun, error=error, require_https=require_https, resolver=self._resolver)
        guard._networks = list(self._networks)
        guard._names = set(self._names)
        return guard

    def check_url(self, url: str, *, warn_unresolvable: bool = True) -> str:
        """At configuration: refuse a URL that is malformed or names an internal address.

        A name that does not resolve (yet) is accepted, with a warning unless told otherwise:
        every use checks again.
        """
        parsed = self._parse(url)
        try:
            self._check(parsed.host, parsed.port or _default_port(parsed.scheme))
        except Unresolvable:
            if warn_unresolvable:
                log.warning(
                    "%s URL host does not resolve now; it is checked again on each use",
                    self._noun,
                    extra={"host": parsed.host},
                )
        return str(parsed)

    def target(self, url: str) -> Target:
        """At use: the checked address to connect to; the use's error if there is none."""
        parsed = self._parse(url)
        port = parsed.port or _default_port(parsed.scheme)
        try:
            address = self._check(parsed.host, port)
        except Unresolvable as exc:
            raise self._error(
                f"The {self._noun} host {parsed.host!r} does not resolve.", host=parsed.host
            ) from exc
        return Target(url=str(parsed), host=parsed.host, port=port, address=address)

    def address_for(self, host: str, port: int) -> str:
        """The address to connect to for `host` (a URL's host, brackets allowed), after every one
        of its addresses passed; the use's error if one is refused, Unresolvable if it has none."""
        try:
            return self._check(host, port)
        except BadHost as exc:
            raise self._error(exc.message, host=exc.host) from None

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
                raise self._refused(urlsplit(url.strip()).hostname or "", literal, reason) from None
            raise self._error(f"The {self._noun} URL is not valid: {exc}.") from None
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise self._error(
                f"The {self._noun} URL must be an absolute http(s) URL, e.g. https://example.com/path."
            )
        if self._require_https and parsed.scheme != "https":
            raise self._error(f"In production, {self._noun} URLs must use https.", scheme=parsed.scheme)
        try:
            parse_host_address(parsed.host.lower())
        except BadHost as exc:
            raise self._error(exc.message, host=exc.host) from None
        return parsed

    def _check(self, raw_host: str, port: int) -> str:
        """The first address of the host, after every one of its addresses passed."""
        host = raw_host.strip("[]").lower().rstrip(".")
        literal = parse_host_address(host)
        if literal is not None:
            addresses: list[IPAddress] = [literal]
        else:
            try:
                addresses = [ipaddress.ip_address(a) for a in self._resolver(host, port)]
            except (OSError, UnicodeError, ValueError) as exc:
                raise Unresolvable(host) from exc
            if not addresses:
                raise Unresolvable(host)
        if host in self._names:
            return str(addresses[0])
        for address in addresses:
            reason = refusal(address)
            if reason and not any(address.version == n.version and address in n for n in self._networks):
                raise self._refused(raw_host, address, reason)
        return str(addresses[0])

    def _refused(self, host: str, address: IPAddress, reason: str) -> UnsafeDestination:
        return self._error(
            f"The {self._noun} URL's host {host!r} is a {reason} address ({address}); sopwright "
            f"connects only to public addresses (an operator may allow it with {ALLOW_SETTING}).",
            host=host,
            address=str(address),
            reason=reason,
        )


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80
