"""Loading SOPs from YAML, and the library of SOPs in force (built-ins plus overrides).

Every failure is a `SopError` naming the file (or label) and the field, so an invalid SOP stops
start-up with a message an operator can act on.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from sops.errors import SopError
from sops.schema import Sop
from sops.types import TaskType

LIBRARY_DIR = Path(__file__).parent / "library"
MAX_SOP_CHARS = 100_000


def load_sop_text(text: str, *, source: str) -> Sop:
    """Parse and validate one SOP; raise SopError naming `source` and the offending field."""
    if len(text) > MAX_SOP_CHARS:
        raise SopError(f"is too long ({len(text):,} characters; at most {MAX_SOP_CHARS:,})", source=source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "cannot be read"
        raise SopError(f"is not valid YAML: {problem}{where}", source=source) from None
    if not isinstance(data, dict):
        raise SopError(
            "must be a YAML mapping (type, version, title, inputs, steps, outcomes)", source=source
        )
    try:
        return Sop.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        field, message = _describe(errors[0])
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise SopError(message + more, source=source, field=field) from None


def load_sop_file(path: Path) -> Sop:
    """Load one SOP file; unreadable files are SopErrors too."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise SopError(f"cannot be read ({exc.__class__.__name__})", source=str(path)) from None
    return load_sop_text(text, source=str(path))


def _describe(error: ErrorDetails) -> tuple[str, str]:
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    field = str(ctx.get("field") or ".".join(str(part) for part in error["loc"]))
    kind = error["type"]
    if kind == "extra_forbidden":
        return field, "is not a known key (check the spelling)"
    if kind == "missing":
        return field, "is required"
    if kind == "value_error":
        return field, str(ctx.get("error", error["msg"]))
    return field, error["msg"]


class SopLibrary:
    """One SOP per task type: the built-in library, possibly with an account's overrides."""

    def __init__(self, sops: Mapping[TaskType, Sop]) -> None:
        missing = [task_type.value for task_type in TaskType if task_type not in sops]
        if missing:
            raise SopError(f"no SOP for {', '.join(missing)}", source="SOP library")
        self._sops = {task_type: sops[task_type] for task_type in TaskType}

    @classmethod
    def builtin(cls) -> SopLibrary:
        """The SOPs shipped in `sops/library/<type>.yaml`; all four types must be there."""
        return cls.from_directory(LIBRARY_DIR)

    @classmethod
    def from_directory(cls, directory: Path) -> SopLibrary:
        """Load `<type>.yaml` for every task type from `directory`."""
        sops: dict[TaskType, Sop] = {}
        for task_type in TaskType:
            path = Path(directory) / f"{task_type.value}.yaml"
            if not path.is_file():
                raise SopError("is missing: every task type needs a SOP", source=str(path))
            sop = load_sop_file(path)
            if sop.type is not task_type:
                raise SopError(
                    f"holds a {sop.type} SOP; the file name says {task_type}", source=str(path), field="type"
                )
            sops[task_type] = sop
        return cls(sops)

    def get(self, task_type: TaskType) -> Sop:
        return self._sops[TaskType(task_type)]

    def with_override(self, sop: Sop) -> SopLibrary:
        """A copy of this library in which `sop` replaces the SOP of its type."""
        return SopLibrary({**self._sops, sop.type: sop})

    def __iter__(self) -> Iterator[Sop]:
        return iter(self._sops.values())

    def __len__(self) -> int:
        return len(self._sops)
