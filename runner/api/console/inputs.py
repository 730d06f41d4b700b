"""The answer form of a task waiting for input: one box per field that is missing or wrong.

A problem on a top-level field (`date_of_birth`) gets its own box, prefilled with what was sent.
A problem inside a list (`service_lines.1.charge`) gets the whole list as editable lines, because a
list field is replaced whole. What the operator posts is turned back into `key: value` lines and
goes through the same `Tasks.supply_input` as `POST /tasks/{id}/input`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from runner.api.console.auth import Posted
from runner.api.console.render import LINE_ORDER, field_label
from runner.core.states import TaskStatus
from runner.core.tables import Task
from sops.dataformat import LONG_TEXT
from sops.fields import FIELDS, Kind
from sops.jsonlimits import pruned


@dataclass(frozen=True)
class InputField:
    name: str
    label: str
    value: str
    problem: str
    missing: bool
    multiline: bool
    example: str
    choices: tuple[str, ...] = ()  # offered as suggestions (typing something else is still checked)


@dataclass(frozen=True)
class InputForm:
    fields: list[InputField]
    lines_label: str | None  # "Service lines" when a list field has a problem
    lines_text: str  # that list as editable `service line: ...` lines
    line_problems: list[str]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return ", ".join(_text(v) for v in value)
    return str(value)


def _lines_text(name: str, value: Any) -> str:
    keyword = FIELDS[name].line_keyword
    rows = value if isinstance(value, list) else []
    lines = []
    for row in rows:
        if isinstance(row, dict):
            ordered = sorted(row.items(), key=lambda kv: LINE_ORDER.get(kv[0], len(LINE_ORDER)))
            pairs = ", ".join(
                f"{k}={' '.join(map(str, v)) if isinstance(v, list) else v}" for k, v in ordered
            )
            lines.append(f"{keyword}: {pairs}")
    return "\n".join(lines)


def input_form(task: Task) -> InputForm | None:
    """The form for a waiting task (None for any other status)."""
    if task.status is not TaskStatus.WAITING_FOR_INPUT:
        return None
    fields: list[InputField] = []
    lines_name: str | None = None
    line_problems: list[str] = []
    for problem in task.problems:
        entry = problem if isinstance(problem, dict) else {"message": problem}
        path = str(entry.get("field") or "")
        message = str(entry.get("message") or "")
        top = path.split(".", 1)[0]
        spec = FIELDS.get(top)
        if spec is not None and spec.kind is Kind.LINES:
            lines_name = lines_name or top
            line_problems.append(message)
        elif spec is not None and all(f.name != top for f in fields):
            raw = task.raw_inputs.get(top, task.fields.get(top))
            fields.append(
                InputField(
                    name=top,
                    label=field_label(top),
                    value=_text(pruned(raw)),
                    problem=message,
                    missing=raw in (None, "", []),
                    multiline=top in LONG_TEXT,
                    example=spec.example,
                    choices=spec.choices,
                )
            )
        else:
            line_problems.append(message)
    return InputForm(
        fields=fields,
        lines_label=field_label(lines_name) if lines_name else None,
        lines_text=_lines_text(lines_name, task.raw_inputs.get(lines_name)) if lines_name else "",
        line_problems=line_problems,
    )


def compose_data(posted: Posted) -> str:
    """`key: value` lines from the form's boxes (empty boxes are left out), then the free text."""
    lines = []
    for key, value in posted.values.items():
        name = key.removeprefix("f.")
        if key.startswith("f.") and name in FIELDS and value.strip():
            lines.append(f"{name}: {value.strip()}")
    for key in ("lines", "data"):
        extra = posted.values.get(key, "").strip()
        if extra:
            lines.append(extra)
    return "\n".join(lines)
