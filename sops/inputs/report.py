"""The outcome of checking a task's inputs: the fields, the problems, and the note a clerk reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One missing or invalid input.

    `field` is a dotted path with 0-based list indexes (`service_lines.1.charge`); `message` is
    plain words starting with the field's label ("service line 2 charge: must be more than zero").
    `missing` tells a missing field from an invalid one.
    """

    field: str
    message: str
    missing: bool = False


@dataclass
class InputCheck:
    """Checked inputs of one task.

    `fields` is JSON-serialisable. When `ok`, it holds the typed, normalised values: dates as ISO
    strings, money as strings with two decimals ("1250.00"), units as integers, codes upper-cased,
    plus any keys this task type does not know (kept as sent). When not `ok`, it holds the raw values
    (after account defaults were applied) so nothing is lost and a later `merge_raw` can complete it.
    `unrecognised` lists the keys kept but not used.
    """

    fields: dict[str, Any]
    problems: list[FieldProblem]
    unrecognised: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def note(self) -> str:
        """One paragraph naming each missing or invalid field and why; "" when all is well."""
        if self.ok:
            return ""
        missing = [problem.message for problem in self.problems if problem.missing]
        invalid = [problem.message for problem in self.problems if not problem.missing]
        parts = []
        if missing:
            parts.append("Missing: " + ", ".join(missing) + ".")
        if invalid:
            parts.append("Invalid: " + "; ".join(invalid) + ".")
        if self.unrecognised:
            names = ", ".join(name.replace("_", " ") for name in self.unrecognised[:10])
            parts.append(f"Not recognised (kept as sent): {names}.")
        return " ".join(parts)
