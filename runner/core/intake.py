"""From what a client sent to typed fields: read `data` (or the documents), check, render.

Pure functions over the sops package; no database. `Tasks` (tasks.py) stores what they produce.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Protocol

from runner.core.errors import InvalidRequest, TooLarge, UnknownTaskType
from runner.core.files import Upload
from runner.core.states import Priority
from sops.dataformat import parse_data
from sops.errors import DataFormatError
from sops.inputs import FieldProblem, InputCheck, check_inputs, text_from_documents
from sops.types import TaskType

VALID_TYPES = ", ".join(t.value for t in TaskType)


def task_type_of(value: str | None) -> TaskType:
    if not value:
        raise UnknownTaskType(f"`type` is required: one of {VALID_TYPES}.", valid_types=list(TaskType))
    try:
        return TaskType(value.strip())
    except ValueError:
        raise UnknownTaskType(
            f"Unknown task type {value!r}: use one of {VALID_TYPES}.", valid_types=list(TaskType)
        ) from None


def priority_of(value: str | None, *, default: Priority) -> Priority:
    """The lane a request asks for (`interactive` or `batch`), or `default` when it names none."""
    if value is None or not value.strip():
        return default
    try:
        return Priority(value.strip().lower())
    except ValueError:
        lanes = ", ".join(p.value for p in Priority)
        raise InvalidRequest(f"Unknown priority {value!r}: use one of {lanes}.", field="priority") from None


def check_data_text(data: str | None, max_chars: int) -> str | None:
    if data is None:
        return None
    if len(data) > max_chars:
        raise TooLarge(
            f"`data` is {len(data):,} characters; the limit is {max_chars:,}. Send long documents as files.",
            max_data_chars=max_chars,
        )
    if "\x00" in data:
        raise InvalidRequest("`data` contains NUL bytes; send plain text or a JSON object.")
    return data


def read_inputs(data: str | None, uploads: Sequence[Upload]) -> dict[str, Any]:
    """Raw canonical fields from `data`, or, when only files were sent, from their text."""
    if data is not None and data.strip():
        try:
            return parse_data(data)
        except DataFormatError as exc:
            raise InvalidRequest(f"`data` cannot be read: {exc.message}") from exc
    if uploads:
        text = text_from_documents((u.content_type, u.content) for u in uploads)
        if text.strip():
            try:
                return parse_data(text)
            except DataFormatError:
                # A document that is not `key: value` text is still kept as a file; the task
                # then waits for input naming the fields it needs.
                return {}
    return {}


@dataclass(frozen=True)
class Checked:
    raw: dict[str, Any]
    check: InputCheck
    portal_name: str | None = None  # the login's name for the payer, for the SOP's instructions

    @property
    def payer(self) -> str | None:
        value = self.check.fields.get("payer")
        return str(value) if value else None


def check(task_type: TaskType, raw: Mapping[str, Any], defaults: Mapping[str, Any], today: date) -> Checked:
    return Checked(dict(raw), check_inputs(task_type, raw, defaults=defaults, today=today))


class Login(Protocol):
    """What the instructions name of the login that runs a task (`PortalCredentials.route`'s)."""

    @property
    def payer(self) -> str: ...
    @property
    def name(self) -> str: ...


Route = tuple[Login | None, str | None]  # PortalCredentials.route: the login, or why none


def with_login(checked: Checked, route: Route, *, required: bool = True) -> Checked:
    """The check with the portal login taken into account: the portal's name for the SOP and,
    when `required`, a task whose payer has no login waits for input like one with a missing
    field (unless the payer itself is already the problem)."""
    login, refusal = route
    if login is not None:
        return replace(checked, portal_name=login.name or login.payer)
    if not required or refusal is None or any(p.field == "payer" for p in checked.check.problems):
        return checked
    problems = [*checked.check.problems, FieldProblem("payer", refusal)]
    return replace(checked, check=replace(checked.check, problems=problems))


def request_hash(task_type: TaskType, data: str | None, uploads: Sequence[Upload]) -> str:
    """Fingerprint of a create request, to tell a retry from a different request (Idempotency-Key)."""
    body = json.dumps(
        {"type": task_type.value, "data": data, "files": sorted(u.sha256 for u in uploads)}, sort_keys=True
    )
    return hashlib.sha256(body.encode()).hexdigest()
