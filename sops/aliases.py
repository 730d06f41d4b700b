"""Key normalisation and alias tables: how a client's key finds its canonical field name.

Keys are matched after `normalise_key`: lower case, runs of spaces, hyphens, dots, slashes and
underscores become one underscore, and `#`, quotes, brackets and colons are dropped. The aliases
themselves are declared with each field in `sops.fields`.
"""

from __future__ import annotations

import functools
import re

from sops.fields import FIELDS, LINE_FIELDS, LINE_SHORTHAND

_SEPARATORS = re.compile(r"[\s\-./_]+")
_DROPPED = re.compile(r"[#()'\"*:]")


@functools.lru_cache(maxsize=4096)  # every key of every request goes through here; keys repeat
def normalise_key(key: str) -> str:
    """`Date of Birth` -> `date_of_birth`; `Member ID #` -> `member_id`."""
    return _SEPARATORS.sub("_", _DROPPED.sub("", key.strip().lower())).strip("_")


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for spec in FIELDS.values():
        for alias in (spec.name, *spec.aliases):
            table[normalise_key(alias)] = spec.name
    for name in LINE_SHORTHAND:
        for alias in (name, *LINE_FIELDS[name].aliases):
            table.setdefault(normalise_key(alias), name)
    for alias in ("patient", "patient name", "name", "member name", "subscriber name", "patient full name"):
        table[normalise_key(alias)] = PATIENT_NAME
    return table


PATIENT_NAME = "patient_name"  # split into patient_first_name / patient_last_name by the parser
ALIASES = _alias_table()
LINE_ALIASES = {
    normalise_key(alias): spec.name for spec in LINE_FIELDS.values() for alias in (spec.name, *spec.aliases)
}


def canonical_key(key: str) -> str:
    """The canonical name for a client's key; unknown keys come back normalised."""
    normal = normalise_key(key)
    return ALIASES.get(normal, normal)


KNOWN_KEYS = frozenset(ALIASES.values())  # every canonical name a client's key can resolve to
