"""The SOP schema: what a `sops/library/<type>.yaml` file may hold (DESIGN.md §3).

Models only, no behaviour. Validation covers the shape (unknown keys are refused), templates
(they compile and only name `task`, `portal`, `fields`, `result` where each is available, and
`fields.x` / `result.x` must be names of that task type), step ids (unique), inputs (canonical
field names of the type, including every field the type always requires) and the point of no
return (at most one `irreversible` step, never polled).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Literal, Self

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from sops.fields import type_fields
from sops.results import result_keys
from sops.templating import attributes_of, check_template
from sops.types import Outcome, TaskType

STEP_NAMES = frozenset({"task", "portal", "fields"})  # what `title` and `say` may use
OUTCOME_NAMES = STEP_NAMES | {"result"}
REVIEW_NAMES = frozenset({"fields"})
FOLLOW_UP_NAMES = frozenset({"fields", "result"})  # what a follow-up's `inputs` may use
TASK_KEYS = frozenset({"task_number", "type"})
PORTAL_KEYS = frozenset({"name"})


def _template(allowed: frozenset[str]) -> AfterValidator:
    def check(source: str) -> str:
        check_template(source, allowed=allowed)
        return source

    return AfterValidator(check)


Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
StepTemplate = Annotated[str, Field(min_length=1, max_length=2000), _template(STEP_NAMES)]
OutcomeTemplate = Annotated[str, Field(min_length=1, max_length=2000), _template(OUTCOME_NAMES)]
ReviewTemplate = Annotated[str, Field(min_length=1, max_length=500), _template(REVIEW_NAMES)]
InputTemplate = Annotated[str, Field(min_length=1, max_length=500), _template(FOLLOW_UP_NAMES)]

_DURATION = re.compile(r"^\s*(\d{1,6})\s*([smhd])\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86_400}


def _duration(value: Any) -> Any:
    """`30s`, `15m`, `6h`, `14d` (or a number of seconds) as a timedelta."""
    if isinstance(value, bool):
        raise ValueError("must be a duration such as 6h or 14d")
    if isinstance(value, int):
        return timedelta(seconds=value)
    if isinstance(value, str) and not value.startswith("P"):  # ISO 8601 (a pinned copy) is pydantic's
        match = _DURATION.match(value)
        if match is None:
            raise ValueError(f"{value!r} is not a duration: write a number and s, m, h or d (6h, 14d)")
        return timedelta(seconds=int(match[1]) * _UNIT_SECONDS[match[2]])
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def _values(value: Any) -> Any:
    """`when: {decision: pended}` is `when: {decision: [pended]}`."""
    if isinstance(value, dict):
        return {key: item if isinstance(item, list) else [item] for key, item in value.items()}
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Poll(_Model):
    """Repeat a step until the portal gives a final answer (e.g. a pended authorization)."""

    every_seconds: int = Field(ge=1, le=86_400)
    max_polls: int = Field(ge=1, le=1_000)


class Retry(_Model):
    """How the runner retries a task after a transient error (portal down, timeout, 429)."""

    max_attempts: int = Field(default=3, ge=1, le=20)
    backoff_seconds: float = Field(default=30, gt=0, le=86_400)
    backoff_multiplier: float = Field(default=2.0, ge=1, le=10)
    max_backoff_seconds: float = Field(default=900, gt=0, le=86_400)


class Inputs(_Model):
    required: list[str] = []
    optional: list[str] = []


class Step(_Model):
    id: Slug
    say: StepTemplate  # one sentence of the human procedure; joined into `instructions`
    do: Slug  # the step-script name, resolved per portal by handlers
    irreversible: bool = False  # the point of no return: recorded before it runs, never re-run blindly
    review: ReviewTemplate | None = None  # renders true -> pending_review before this step runs
    poll: Poll | None = None


class FollowUp(_Model):
    """A linked task created when this one ends (DESIGN.md §9): it checks back with the payer every
    `every`, first after `first_after` (default `every`), until the payer has `until` (decided: an
    authorization's decision is no longer pended; finalized: a claim is paid or denied), for at
    most `for`. `when` (result key -> values) limits it to some results; a failed task never has
    one. `inputs` are the child's fields, rendered from this task's `fields` and `result` (a value
    that renders empty is left out)."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    type: TaskType
    when: Annotated[dict[str, list[str | int | bool]], BeforeValidator(_values)] = {}
    first_after: Duration | None = None
    every: Duration
    for_: Duration = Field(alias="for")
    until: Literal["decided", "finalized"] = "decided"
    inputs: dict[Slug, InputTemplate] = Field(min_length=1)


class Outcomes(_Model):
    """The note for each `Outcome` (one field per member, by its value)."""

    completed: OutcomeTemplate
    completed_with_issues: OutcomeTemplate
    failed: OutcomeTemplate


class Sop(_Model):
    type: TaskType
    version: int = Field(ge=1)
    title: StepTemplate
    inputs: Inputs
    steps: list[Step] = Field(min_length=1, max_length=50)
    outcomes: Outcomes
    retry: Retry = Retry()
    follow_up: FollowUp | None = None

    @model_validator(mode="after")
    def _rules(self) -> Self:
        _check_steps(self)
        _check_inputs(self)
        _check_names(self)
        _check_follow_up(self)
        return self


def _rule(field: str, message: str) -> PydanticCustomError:
    """An error whose `ctx.field` names where it is (the loader reads it)."""
    return PydanticCustomError("sop_rule", "{message}", {"message": message, "field": field})


def _check_steps(sop: Sop) -> None:
    seen: set[str] = set()
    irreversible: list[int] = []
    for index, step in enumerate(sop.steps):
        if step.id in seen:
            raise _rule(f"steps.{index}.id", f"step id {step.id!r} is used twice")
        seen.add(step.id)
        if step.irreversible:
            irreversible.append(index)
            if step.poll is not None:
                raise _rule(f"steps.{index}.poll", "an irreversible step cannot be polled (it would repeat)")
    if len(irreversible) > 1:
        raise _rule(
            f"steps.{irreversible[1]}.irreversible",
            f"only one step may be irreversible (steps {irreversible[0]} and {irreversible[1]} are)",
        )


def _check_inputs(sop: Sop) -> None:
    fields = type_fields(sop.type)
    for group in ("required", "optional"):
        for index, name in enumerate(getattr(sop.inputs, group)):
            if name not in fields:
                raise _rule(f"inputs.{group}.{index}", f"{name!r} is not a {sop.type} field")
    both = set(sop.inputs.required) & set(sop.inputs.optional)
    if both:
        raise _rule("inputs", f"{', '.join(sorted(both))} listed as both required and optional")
    always = [name for name, required in fields.items() if required and name not in sop.inputs.required]
    if always:
        raise _rule("inputs.required", f"must list {', '.join(always)} (always required for {sop.type})")


def _check_names(sop: Sop) -> None:
    fields, results = set(type_fields(sop.type)), result_keys(sop.type)
    templates = {"title": sop.title}
    for index, step in enumerate(sop.steps):
        templates[f"steps.{index}.say"] = step.say
        if step.review is not None:
            templates[f"steps.{index}.review"] = step.review
    for outcome in Outcome:
        templates[f"outcomes.{outcome}"] = getattr(sop.outcomes, outcome)
    known = {"fields": fields, "result": results, "task": TASK_KEYS, "portal": PORTAL_KEYS}
    for where, source in templates.items():
        for variable, names in known.items():
            unknown = attributes_of(source, variable) - names
            if unknown:
                raise _rule(where, f"{variable}.{sorted(unknown)[0]} is not known for a {sop.type} task")


# What each `until` reads on the follow-up's result (sops/followups.py decides on it).
UNTIL_KEYS = {"decided": "decision", "finalized": "status_category"}
_MIN_EVERY = timedelta(minutes=1)


def _check_follow_up(sop: Sop) -> None:
    follow = sop.follow_up
    if follow is None:
        return
    if follow.type is sop.type:
        raise _rule("follow_up.type", f"a {sop.type} task cannot follow itself up")
    results, child_fields = result_keys(sop.type), type_fields(follow.type)
    for key in follow.when:
        if key not in results:
            raise _rule(f"follow_up.when.{key}", f"{key!r} is not a {sop.type} result key")
    if UNTIL_KEYS[follow.until] not in result_keys(follow.type):
        raise _rule("follow_up.until", f"a {follow.type} result has no {UNTIL_KEYS[follow.until]}")
    if follow.every < _MIN_EVERY:
        raise _rule("follow_up.every", "must be at least 1m (a check is a portal visit)")
    first = follow.first_after if follow.first_after is not None else follow.every
    if first > follow.for_:
        raise _rule("follow_up.for", "must be at least the time to the first check")
    known = {"fields": set(type_fields(sop.type)), "result": results}
    for name, source in follow.inputs.items():
        where = f"follow_up.inputs.{name}"
        if name not in child_fields:
            raise _rule(where, f"{name!r} is not a {follow.type} field")
        for variable, names in known.items():
            unknown = attributes_of(source, variable) - names
            if unknown:
                raise _rule(where, f"{variable}.{sorted(unknown)[0]} is not known for a {sop.type} task")
