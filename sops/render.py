"""Rendering a SOP for one task: handler, title, instructions, outcome notes and review gates.

Templates see `task` (task_number, type), `portal` (name), `fields` and, in outcomes, `result`.
`fields` and `result` are read-only views that only answer to names of the task type (DOMAIN.md
§2, `sops.results`): a misspelt name is an error (StrictUndefined) whatever the data. A required
field the task does not have yet renders as a visible placeholder such as `[member ID]`, so a task
waiting for input still gets readable instructions; a missing optional field or result key is
`None` (renders as "", falsy in `{% if %}`). Money fields (`total_charge`, a line's `charge`) are
`Decimal`s in templates so that `fields.total_charge > 5000` compares numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from jinja2 import TemplateError

from sops.errors import SopError
from sops.fields import FIELDS, LINE_FIELDS, Kind, type_fields
from sops.results import result_keys
from sops.schema import Sop, Step
from sops.templating import compiled
from sops.types import Outcome

_MONEY_KEYS = frozenset({"total_charge", "charge"})
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class RenderedTask:
    handler: str  # "<type>_<version>", e.g. "submit_claim_1"
    title: str  # "Submit claim #7"
    instructions: str  # "SOP: " + the rendered say lines as prose


class Placeholder:
    """Stands in for a required field a task does not have yet; renders as `[label]`."""

    def __init__(self, label: str) -> None:
        self.label = label

    def __str__(self) -> str:
        return f"[{self.label}]"

    def __iter__(self) -> Iterator[Placeholder]:  # `|join` on a missing list shows the placeholder once
        return iter((self,))

    def __getattr__(self, name: str) -> Placeholder:  # `line.charge` inside a loop over a missing list
        if name.startswith("_"):
            raise AttributeError(name)
        return self

    def __getitem__(self, key: object) -> Placeholder:
        return self


class _View(Mapping[str, Any]):
    """A read-only mapping that only answers to `names` (name -> placeholder label or None)."""

    def __init__(self, values: Mapping[str, Any], names: Mapping[str, str | None]) -> None:
        self._values = values
        self._names = names

    def __getitem__(self, key: str) -> Any:
        if key not in self._names:
            raise KeyError(key)  # -> StrictUndefined in the template
        value = self._values.get(key)
        if value is None or value == "" or value == []:
            label = self._names[key]
            return Placeholder(label) if label is not None else None
        return _wrap(key, value)

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


_LINE_NAMES: dict[str, str | None] = dict.fromkeys(LINE_FIELDS)


def _wrap(key: str, value: Any) -> Any:
    if key in _MONEY_KEYS and isinstance(value, str | int | float):
        try:
            return Decimal(str(value).replace("$", "").replace(",", ""))
        except InvalidOperation:
            return value
    if key in FIELDS and FIELDS[key].kind is Kind.LINES and isinstance(value, list):
        return [_View(item, _LINE_NAMES) if isinstance(item, Mapping) else item for item in value]
    return value


def fields_view(sop: Sop, fields: Mapping[str, Any], *, placeholders: bool = True) -> _View:
    """`fields` as templates of `sop` see them."""
    names = {
        name: (FIELDS[name].label if required and placeholders else None)
        for name, required in type_fields(sop.type).items()
    }
    return _View(fields, names)


def _render(sop: Sop, where: str, source: str, context: Mapping[str, Any]) -> str:
    if "{" not in source:  # no template syntax: the text renders as itself (every create renders)
        return _SPACE.sub(" ", source).strip()
    try:
        return _SPACE.sub(" ", compiled(source).render(context)).strip()
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise SopError(
            f"cannot be rendered: {message}", source=f"{sop.type}_{sop.version}", field=where
        ) from None


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def _context(
    sop: Sop, fields: Mapping[str, Any], task_number: int, portal_name: str | None
) -> dict[str, Any]:
    payer = fields.get("payer")
    name = portal_name or (payer if isinstance(payer, str) and payer else "payer's")
    return {
        "task": {"task_number": task_number, "type": sop.type.value},
        "portal": {"name": name},
        "fields": fields_view(sop, fields),
    }


def render_task(
    sop: Sop, *, task_number: int, fields: Mapping[str, Any], portal_name: str | None = None
) -> RenderedTask:
    """Handler name, title and instructions of task `task_number` (fields may be incomplete)."""
    context = _context(sop, fields, task_number, portal_name)
    title = _render(sop, "title", sop.title, context)
    lines = [_render(sop, f"steps.{i}.say", step.say, context) for i, step in enumerate(sop.steps)]
    instructions = "SOP: " + " ".join(_sentence(line) for line in lines if line)
    return RenderedTask(handler=f"{sop.type.value}_{sop.version}", title=title, instructions=instructions)


def render_outcome(
    sop: Sop,
    outcome: Outcome | str,
    *,
    fields: Mapping[str, Any],
    result: Mapping[str, Any],
    task_number: int,
    portal_name: str | None = None,
) -> str:
    """The one-sentence note for a final state, e.g. "Claim submitted with reference PA-2025-03-1842."."""
    try:
        outcome = Outcome(outcome)
    except ValueError:
        raise SopError(
            f"{outcome!r} is not a final state ({', '.join(Outcome)})", source=sop.type, field="outcomes"
        ) from None
    context = _context(sop, fields, task_number, portal_name)
    context["result"] = _View(result, dict.fromkeys(result_keys(sop.type)))
    return _render(sop, f"outcomes.{outcome}", getattr(sop.outcomes, outcome), context)


def render_follow_up_inputs(
    sop: Sop, *, fields: Mapping[str, Any], result: Mapping[str, Any]
) -> dict[str, str]:
    """The inputs of `sop`'s follow-up task, from this task's fields and result: each rendered
    template, those that render empty left out (the follow-up's input check names what is missing)."""
    follow = sop.follow_up
    if follow is None:
        return {}
    context = {
        "fields": fields_view(sop, fields, placeholders=False),
        "result": _View(result, dict.fromkeys(result_keys(sop.type))),
    }
    rendered = {
        name: _render(sop, f"follow_up.inputs.{name}", source, context)
        for name, source in follow.inputs.items()
    }
    return {name: value for name, value in rendered.items() if value}


def review_required(step: Step, *, fields: Mapping[str, Any]) -> bool:
    """Whether `step`'s review gate is on for these (valid) fields; no `review` means no gate."""
    if step.review is None:
        return False
    view = _View(fields, dict.fromkeys(FIELDS))
    try:
        rendered = compiled(step.review).render({"fields": view}).strip().lower()
    except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
        message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
        raise SopError(f"cannot be evaluated: {message}", source=f"step {step.id}", field="review") from None
    if rendered in ("true", "yes", "1"):
        return True
    if rendered in ("false", "no", "0", "", "none"):
        return False
    raise SopError(
        f"must render true or false, not {rendered[:40]!r}", source=f"step {step.id}", field="review"
    )
