"""Sample values shared by the mock portal's unit tests (synthetic)."""

from __future__ import annotations

from datetime import UTC, date, datetime

NOW = datetime(2026, 6, 15, 14, 30, tzinfo=UTC)  # mid-year: seeded coverage is active

MEMBERS = {
    "SYN100001": ("Ada", "Testmember", date(1980, 4, 12)),
    "SYN100002": ("Ben", "Inactiveton", date(1975, 9, 30)),
    "SYN100010": ("Dee", "Rejectson", date(1990, 1, 15)),
    "SYN100011": ("Eve", "Deniedclaim", date(1968, 7, 4)),
    "SYN100020": ("Fay", "Partialauth", date(1985, 2, 28)),
    "SYN100021": ("Gus", "Deniedauth", date(1959, 11, 11)),
    "SYN100022": ("Hal", "Pendedapprove", date(1972, 3, 3)),
    "SYN100023": ("Ivy", "Pendeddeny", date(1993, 8, 21)),
    "SYN100024": ("Jo", "Noauthneeded", date(2001, 12, 1)),
    "SYN100025": ("Lee", "Longpended", date(1966, 6, 16)),
    "SYN100030": ("Kai", "Appealpatient", date(1988, 5, 17)),
    "SYN100042": ("Cy", "Unavailable", date(1970, 10, 10)),
}
