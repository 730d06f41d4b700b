"""Addresses the destination policy must refuse, in every spelling, and a fake DNS for names.

Shared by the webhook guard's tests and the portal URL tests: one policy, one list.
"""

from __future__ import annotations

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
