"""check_inputs: raw mapping + account defaults -> typed fields, or the list of what to fix.

Resolution order for each field of the task type: the task's own value, the account default, then
the type's synonyms (e.g. a claim's `billing_npi` falls back to `provider_npi`), task before
defaults. A single line may be given at the top level (`cpt: 99213`, `charge: 125`), and a line's
missing service date / place of service falls back to the task-level ones.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date
from typing import Any

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from sops.aliases import KNOWN_KEYS, canonical_key
from sops.dataformat import UNPARSED
from sops.fields import FIELDS, LINE_FIELDS, LINE_SHORTHAND, SYNONYMS, type_fields
from sops.inputs.models import DEFAULT_TIMELY_FILING_DAYS, MAX_LINES, MODELS, TaskInputs
from sops.inputs.report import FieldProblem, InputCheck
from sops.inputs.rules import cross_problems
from sops.types import TaskType

TIMELY_FILING_KEY = "timely_filing_days"  # an account default, not a task field
_LINE_LABELS = {"service_lines": "service line", "procedures": "procedure"}


def check_inputs(
    task_type: TaskType,
    raw: Mapping[str, Any],
    *,
    defaults: Mapping[str, Any] | None = None,
    today: date,
    required: Collection[str] = (),
) -> InputCheck:
    """Type and validate `raw` (from `parse_data`) for `task_type`; never raises on bad input.

    `required` names fields to require beyond the type's own (e.g. a SOP's `inputs.required`).
    """
    task_type = TaskType(task_type)
    account = {canonical_key(str(key)): value for key, value in (defaults or {}).items()}
    resolved, consumed = _resolve(task_type, raw, account, today)
    known = type_fields(task_type)
    context = {"today": today, "timely_filing_days": _filing_days(account)}
    problems: list[FieldProblem]
    inputs: TaskInputs | None = None
    try:
        inputs = MODELS[task_type].model_validate(resolved, context=context)
    except ValidationError as exc:
        problems = [_problem(error) for error in exc.errors(include_url=False)]
    else:
        problems = cross_problems(inputs)
    for name in required:
        if name in known and resolved.get(name) is None and name not in {p.field for p in problems}:
            problems.append(FieldProblem(name, FIELDS[name].label, missing=True))
    extras = {key: value for key, value in raw.items() if key not in known and key not in consumed}
    # Typos are worth a mention; a known field this type does not use (urgency on a claim) is not.
    unrecognised = [key for key in extras if key != UNPARSED and key not in KNOWN_KEYS]
    if inputs is None or problems:
        return InputCheck({**resolved, **extras}, problems, unrecognised)
    typed = inputs.model_dump(mode="json", exclude_none=True)
    return InputCheck({**typed, **extras}, [], unrecognised)


def _filing_days(account: Mapping[str, Any]) -> int:
    value = account.get(TIMELY_FILING_KEY)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    return DEFAULT_TIMELY_FILING_DAYS


def _present(value: Any) -> bool:
    return value is not None and value != "" and value != [] and value != {}


def _resolve(
    task_type: TaskType, raw: Mapping[str, Any], account: Mapping[str, Any], today: date
) -> tuple[dict[str, Any], set[str]]:
    """The model's input: each field from task, defaults or synonyms; and the raw keys used up."""
    resolved: dict[str, Any] = {}
    consumed: set[str] = set()
    synonyms = SYNONYMS[task_type]
    for name in type_fields(task_type):
        for source in (name, *synonyms.get(name, ())):
            if _present(raw.get(source)):
                resolved[name] = raw[source]
                consumed.add(source)
                break
            if _present(account.get(source)):
                resolved[name] = account[source]
                break
    lines_field = next(
        (name for name in ("service_lines", "procedures") if name in type_fields(task_type)), None
    )
    if lines_field is not None:
        shorthand = {key: raw[key] for key in LINE_SHORTHAND if _present(raw.get(key))}
        if shorthand and lines_field not in resolved:
            resolved[lines_field] = [shorthand]
        consumed.update(shorthand)
        if lines_field == "service_lines" and isinstance(resolved.get(lines_field), list):
            resolved[lines_field] = [_with_fallbacks(line, resolved) for line in resolved[lines_field]]
    if task_type is TaskType.CHECK_ELIGIBILITY and "service_date" not in resolved:
        resolved["service_date"] = today.isoformat()
    # A range given by its first day only is that one day.
    for start, end in (("service_from", "service_to"), ("service_date_from", "service_date_to")):
        if end in type_fields(task_type) and end not in resolved and start in resolved:
            resolved[end] = resolved[start]
    return resolved, consumed


def _with_fallbacks(line: Any, claim: Mapping[str, Any]) -> Any:
    if not isinstance(line, dict):
        return line
    filled = dict(line)
    for key in ("service_date", "place_of_service"):
        if not _present(filled.get(key)) and _present(claim.get(key)):
            filled[key] = claim[key]
    return filled


def _label(loc: tuple[int | str, ...]) -> str:
    head = str(loc[0])
    if head in _LINE_LABELS and len(loc) >= 2 and isinstance(loc[1], int):
        label = f"{_LINE_LABELS[head]} {loc[1] + 1}"
        if len(loc) >= 3:
            sub = str(loc[2])
            label += " " + (LINE_FIELDS[sub].label if sub in LINE_FIELDS else sub.replace("_", " "))
        return label
    return FIELDS[head].label if head in FIELDS else head.replace("_", " ")


def _problem(error: ErrorDetails) -> FieldProblem:
    loc = error["loc"] or ("data",)
    path = ".".join(str(part) for part in loc)
    label = _label(loc)
    kind = error["type"]
    if kind == "missing":
        return FieldProblem(path, label, missing=True)
    if kind == "value_error":
        reason = str((error.get("ctx") or {}).get("error", error["msg"]))
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        reason = "must be a group of key=value pairs, like cpt=99213, units=1, charge=125.00"
    elif kind in ("list_type", "too_short"):
        reason = "must be a list"
    elif kind == "too_long":
        reason = f"has too many entries (at most {MAX_LINES})"
    else:
        reason = "is not valid: " + error["msg"].lower()
    return FieldProblem(path, f"{label} {reason}")
