"""SOP schema and loader: the built-in library, and invalid SOPs naming their file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from sops.errors import SopError
from sops.loader import LIBRARY_DIR, SopLibrary, load_sop_file, load_sop_text
from sops.types import TaskType

VALID = """\
type: check_eligibility
version: 2
title: "Eligibility #{{ task.task_number }}"
inputs:
  required: [member_id, patient_first_name, patient_last_name, date_of_birth, payer]
  optional: [service_type]
steps:
  - id: login
    say: "Log in to {{ portal.name }}"
    do: login
  - id: read
    say: "Read coverage for {{ fields.member_id }}"
    do: read_eligibility_result
outcomes:
  completed: "Active."
  completed_with_issues: "{{ result.coverage_status }}."
  failed: "{{ result.failure_reason }}"
"""


def test_builtin_library_has_one_valid_sop_per_task_type(library: SopLibrary) -> None:
    assert [sop.type for sop in library] == list(TaskType)
    assert len(library) == 6
    read_only = {TaskType.CHECK_ELIGIBILITY, TaskType.CHECK_CLAIM_STATUS, TaskType.CHECK_AUTHORIZATION_STATUS}
    for sop in library:
        assert sop.version == 1
        assert sum(step.irreversible for step in sop.steps) == (0 if sop.type in read_only else 1)


def test_step_scripts_of_the_library(library: SopLibrary) -> None:
    assert [step.do for step in library.get(TaskType.SUBMIT_CLAIM).steps] == [
        "login",
        "open_claim_form",
        "fill_claim",
        "submit_claim",
        "capture_claim_number",
    ]
    auth = library.get(TaskType.SUBMIT_PRIOR_AUTHORIZATION)
    assert auth.steps[-1].do == "poll_decision"
    assert auth.steps[-1].poll is not None


def test_a_valid_sop_loads_with_default_retry_policy() -> None:
    sop = load_sop_text(VALID, source="account.yaml")
    assert (sop.version, sop.retry.max_attempts) == (2, 3)


def test_with_override_replaces_one_type_in_a_copy(library: SopLibrary) -> None:
    override = load_sop_text(VALID, source="account.yaml")
    custom = library.with_override(override)
    assert custom.get(TaskType.CHECK_ELIGIBILITY).version == 2
    assert library.get(TaskType.CHECK_ELIGIBILITY).version == 1
    assert custom.get(TaskType.SUBMIT_CLAIM) is library.get(TaskType.SUBMIT_CLAIM)


def edit(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new)


@pytest.mark.parametrize(
    ("text", "field", "words"),
    [
        (edit("version: 2", "version: 2\ncolour: blue"), "colour", "not a known key"),
        (edit("    do: login", "    do: login\n    undo: logout"), "steps.0.undo", "not a known key"),
        (edit("id: read", "id: login"), "steps.1.id", "'login' is used twice"),
        (
            edit('say: "Log in to {{ portal.name }}"', 'say: "Log in to {{ portal.name"'),
            "steps.0.say",
            "does not compile",
        ),
        (
            edit("    do: login", "    do: login\n    irreversible: true").replace(
                "    do: read_eligibility_result", "    do: read_eligibility_result\n    irreversible: true"
            ),
            "steps.1.irreversible",
            "only one step may be irreversible",
        ),
        (
            edit(
                "    do: login",
                "    do: login\n    irreversible: true\n    poll: {every_seconds: 5, max_polls: 2}",
            ),
            "steps.0.poll",
            "cannot be polled",
        ),
        (
            edit("{{ fields.member_id }}", "{{ fields.membr_id }}"),
            "steps.1.say",
            "fields.membr_id is not known",
        ),
        (
            edit("{{ result.coverage_status }}", "{{ result.claim_number }}"),
            "outcomes.completed_with_issues",
            "result.claim_number is not known",
        ),
        (edit("{{ portal.name }}", "{{ secrets }}"), "steps.0.say", "unknown name(s) secrets"),
        (
            edit('completed: "Active."', 'completed: "{{ result.plan_name }}"').replace(
                '  failed: "{{ result.failure_reason }}"\n', ""
            ),
            "outcomes.failed",
            "required",
        ),
        (
            edit("optional: [service_type]", "optional: [billing_npi]"),
            "inputs.optional.0",
            "'billing_npi' is not a check_eligibility field",
        ),
        (edit("required: [member_id, ", "required: ["), "inputs.required", "must list member_id"),
        (edit("version: 2", "version: 0"), "version", "greater than or equal to 1"),
        (edit("type: check_eligibility", "type: mow_lawn"), "type", "Input should be"),
        (edit("do: login", "do: Log In"), "steps.0.do", "should match pattern"),
    ],
)
def test_invalid_sops_name_file_and_field(text: str, field: str, words: str) -> None:
    with pytest.raises(SopError) as caught:
        load_sop_text(text, source="accounts/acme/check_eligibility.yaml")
    error = caught.value
    assert (error.source, error.field) == ("accounts/acme/check_eligibility.yaml", field)
    assert words in error.message
    assert str(error).startswith(f"accounts/acme/check_eligibility.yaml: {field}: ")


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("type: [unclosed", "not valid YAML"),
        ("- a list", "must be a YAML mapping"),
        ("x" * 200_000, "too long"),
    ],
)
def test_unreadable_sop_text(text: str, words: str) -> None:
    with pytest.raises(SopError, match=words):
        load_sop_text(text, source="bad.yaml")


def test_unreadable_file_names_the_path(tmp_path: Path) -> None:
    path = tmp_path / "sop.yaml"
    path.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(SopError) as caught:
        load_sop_file(path)
    assert caught.value.source == str(path)


def test_a_library_directory_needs_every_type_under_its_own_name(tmp_path: Path) -> None:
    for task_type in TaskType:
        (tmp_path / f"{task_type.value}.yaml").write_text(
            (LIBRARY_DIR / f"{task_type.value}.yaml").read_text()
        )
    assert len(SopLibrary.from_directory(tmp_path)) == len(TaskType)
    (tmp_path / "submit_claim.yaml").write_text((LIBRARY_DIR / "submit_appeal.yaml").read_text())
    with pytest.raises(SopError) as caught:
        SopLibrary.from_directory(tmp_path)
    assert (caught.value.field, caught.value.source) == ("type", str(tmp_path / "submit_claim.yaml"))
    (tmp_path / "submit_claim.yaml").unlink()
    with pytest.raises(SopError, match="missing"):
        SopLibrary.from_directory(tmp_path)
