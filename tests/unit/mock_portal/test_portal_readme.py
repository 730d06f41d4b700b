"""mock_portal/README.md documents what the code does: magic ids, knobs, admin routes."""

from __future__ import annotations

import re
from pathlib import Path

from mock_portal.app import create_app
from mock_portal.knobs import Knobs
from mock_portal.portal import PortalConfig
from mock_portal.scenarios import MAGIC_MEMBERS
from mock_portal.seed import DEFAULT_FIXTURES, load_seed
from tests.unit.mock_portal.portal_samples import NOW

README = (Path(__file__).resolve().parents[3] / "mock_portal" / "README.md").read_text(encoding="utf-8")


def test_magic_member_table_matches_the_code_and_the_fixtures() -> None:
    rows = re.findall(r"^\| (SYN\d+) \| ([^,]+), (\d{4}-\d{2}-\d{2}) \| (\w+) \| (.+) \|$", README, re.M)
    assert [(r[0], r[3], r[4]) for r in rows] == [
        (m.member_id, m.scenario.value, m.effect) for m in MAGIC_MEMBERS
    ]
    members = load_seed(DEFAULT_FIXTURES, NOW).members
    for member_id, name, dob, _, _ in rows:
        member = members[member_id]
        assert f"{member.first_name} {member.last_name}" == name
        assert member.date_of_birth.isoformat() == dob


def test_every_knob_is_documented() -> None:
    documented = set(re.findall(r"^\| `(\w+)` \|", README, re.M))
    assert set(Knobs.model_fields) <= documented


def test_every_admin_route_is_documented() -> None:
    app = create_app(PortalConfig(admin=True))
    admin_paths = set(app.openapi()["paths"])
    assert len(admin_paths) == 12 and all(p.startswith("/_mock/") for p in admin_paths)
    for path in admin_paths:
        assert f" {path}" in README, path
