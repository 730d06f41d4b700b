"""The SOP `follow_up` declaration (issue 13): its shape, its checks, rendering the follow-up's
inputs from the task's fields and result, and when a check has found the payer's final word."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from sops.errors import SopError
from sops.followups import settled, spoken, standing, wanted
from sops.loader import LIBRARY_DIR, load_sop_text
from sops.render import render_follow_up_inputs
from sops.schema import Sop
from sops.types import Outcome, TaskType

AUTH_YAML = (Path(LIBRARY_DIR) / "submit_prior_authorization.yaml").read_text()


def auth_with(**follow_up: Any) -> str:
    data = yaml.safe_load(AUTH_YAML)
    data["follow_up"] = {**data["follow_up"], **follow_up}
    return yaml.safe_dump(data)


def test_the_library_declares_the_issues_follow_ups() -> None:
    auth = load_sop_text(AUTH_YAML, source="auth")
    assert auth.follow_up is not None
    assert auth.follow_up.type is TaskType.CHECK_AUTHORIZATION_STATUS
    assert (auth.follow_up.every, auth.follow_up.for_) == (timedelta(hours=6), timedelta(days=14))
    assert auth.follow_up.when == {"decision": ["pended"]} and auth.follow_up.until == "decided"
    claim = load_sop_text((Path(LIBRARY_DIR) / "submit_claim.yaml").read_text(), source="claim")
    assert claim.follow_up is not None and claim.follow_up.until == "finalized"
    assert claim.follow_up.first_after == timedelta(days=3) and claim.follow_up.for_ == timedelta(days=45)
    assert Sop.model_validate_json(claim.model_dump_json()) == claim  # a pinned copy loads back


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"every": "6 hours"}, "follow_up.every", "not a duration"),
        ({"every": "30s"}, "follow_up.every", "at least 1m"),
        ({"first_after": "20d"}, "follow_up.for", "time to the first check"),
        ({"until": "paid"}, "follow_up.until", "decided"),
        (
            {"when": {"desicion": "pended"}},
            "follow_up.when.desicion",
            "not a submit_prior_authorization result",
        ),
        ({"type": "submit_prior_authorization"}, "follow_up.type", "cannot follow itself"),
        ({"type": "check_claim_status"}, "follow_up.until", "has no decision"),
        ({"inputs": {"payer": "{{ fields.payer }}", "npi": "x"}}, "follow_up.inputs.npi", "not a check_"),
        ({"inputs": {"payer": "{{ fields.payor }}"}}, "follow_up.inputs.payer", "fields.payor is not known"),
        ({"inputs": {"payer": "{{ task.title }}"}}, "follow_up.inputs.payer", "unknown name(s) task"),
        ({"every_day": True}, "follow_up.every_day", "not a known key"),
    ],
)
def test_a_bad_follow_up_is_refused_naming_the_field(
    change: dict[str, Any], field: str, message: str
) -> None:
    with pytest.raises(SopError) as caught:
        load_sop_text(auth_with(**change), source="auth.yaml")
    assert caught.value.field == field, str(caught.value)
    assert message in str(caught.value)


def test_inputs_render_from_fields_and_result_and_empty_ones_are_left_out() -> None:
    auth = load_sop_text(AUTH_YAML, source="auth")
    fields = {
        "payer": "acme",
        "member_id": "SYN100",
        "patient_first_name": "Ada",
        "patient_last_name": "Example",
        "date_of_birth": "1980-04-12",
        "procedures": [{"procedure_code": "72148", "units": 1}],
        "service_from": "2026-12-10",
        "requesting_npi": "2000000002",
    }
    inputs = render_follow_up_inputs(
        auth, fields=fields, result={"reference_number": "R1", "decision": "pended"}
    )
    assert inputs == {
        "payer": "acme",
        "reference_number": "R1",
        "member_id": "SYN100",
        "patient_first_name": "Ada",
        "patient_last_name": "Example",
        "date_of_birth": "1980-04-12",
        "procedure_code": "72148",
        "service_from": "2026-12-10",
        "service_to": "2026-12-10",
        "requesting_npi": "2000000002",
    }  # no certification number yet: left out


def test_when_a_follow_up_is_wanted_and_when_it_is_done() -> None:
    auth = load_sop_text(AUTH_YAML, source="auth").follow_up
    assert auth is not None
    assert wanted(auth, Outcome.COMPLETED_WITH_ISSUES, {"decision": "pended"})
    assert not wanted(auth, Outcome.COMPLETED_WITH_ISSUES, {"decision": "denied"})
    assert not wanted(auth, Outcome.FAILED, {"decision": "pended"})
    assert not settled("decided", {"decision": "pended"}) and not settled("decided", {})
    assert settled("decided", {"decision": "denied"})
    assert not settled("finalized", {"status_category": "pending"})
    assert settled("finalized", {"status_category": "finalized_denied"})
    assert standing("finalized", {}) == "not finalized (not found)"
    assert [spoken(timedelta(days=14)), spoken(timedelta(hours=1)), spoken(timedelta(seconds=90))] == [
        "14 days",
        "1 hour",
        "90 seconds",
    ]
