"""Runs a SOP's steps against a portal, in order, with the hooks the caller needs.

The engine owns the procedure's rules: review gates stop before their step, the irreversible
step is announced (`before_irreversible`) before it runs, polled steps repeat while the portal's
answer is pending, and a task resumed past the point of no return is reconciled — never
submitted again blindly. It knows nothing about the database: the runner's hooks record.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from handlers.context import StepContext
from handlers.errors import NeedsReview, StepError
from handlers.registry import PortalHandler
from sops.render import review_required
from sops.schema import Sop, Step
from sops.types import DocumentKind, Outcome

RECONCILE_GATE = "reconcile"


class GateReached(NeedsReview):
    """A review gate (or an unresolved reconciliation) stops the run before `gate`."""

    def __init__(self, message: str, *, gate: str) -> None:
        super().__init__(message)
        self.gate = gate


class NotListedYet(StepError):
    """Reconciliation found no earlier submission, but the submit was so recent that the portal
    may not list it yet (portals index new submissions with a delay): look again after
    `retry_after` seconds rather than ask a person, who would see the same empty search."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Hooks(Protocol):
    async def step_started(self, position: int, step: Step) -> None: ...

    async def step_finished(
        self, position: int, step: Step, *, outcome: str, message: str | None
    ) -> None: ...

    async def before_irreversible(self, step: Step) -> None: ...


class NoHooks:
    async def step_started(self, position: int, step: Step) -> None:
        return None

    async def step_finished(self, position: int, step: Step, *, outcome: str, message: str | None) -> None:
        return None

    async def before_irreversible(self, step: Step) -> None:
        return None


@dataclass(frozen=True)
class Resume:
    """Where a task stands when it is (re)started."""

    submit_attempted: bool = False  # the irreversible step was announced in an earlier attempt
    approved_gates: frozenset[str] = field(default_factory=frozenset)
    # Seconds until a portal that lists no such submission is believed: what is left, since the
    # submit was announced, of the time the portal may take to list a new submission. While it
    # lasts, "not found" is "not listed yet" (NotListedYet), not a question for a person.
    listing_wait: float = 0.0


@dataclass(frozen=True)
class Pacing:
    """Polling pace: `scale` shrinks a SOP's poll interval (tests, replays against the mock)."""

    scale: float = 1.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep


async def run_sop(
    sop: Sop,
    portal: PortalHandler,
    ctx: StepContext,
    hooks: Hooks,
    *,
    resume: Resume = Resume(),
    pacing: Pacing = Pacing(),
) -> Outcome:
    """Run the steps; returns the business outcome, or raises a StepError for the runner to map."""
    point_of_no_return = next((i for i, s in enumerate(sop.steps) if s.irreversible), None)
    reconciling = resume.submit_attempted and point_of_no_return is not None
    for position, step in enumerate(sop.steps):
        if reconciling and point_of_no_return is not None and position <= point_of_no_return:
            if step.do in portal.session_steps:
                await _run_step(portal, ctx, hooks, position, step, pacing)
            elif position == point_of_no_return:
                await _reconcile(sop, portal, ctx, hooks, position, step, resume, pacing)
            else:
                await hooks.step_started(position, step)
                await hooks.step_finished(
                    position, step, outcome="skipped", message="Already done before the submit."
                )
            if ctx.outcome is not None:
                return ctx.outcome
            continue
        if step.review and step.id not in resume.approved_gates and review_required(step, fields=ctx.fields):
            raise GateReached(f"Review required before step {step.id!r} ({step.say}).", gate=step.id)
        if step.irreversible:
            await hooks.before_irreversible(step)
        await _run_step(portal, ctx, hooks, position, step, pacing)
        if ctx.outcome is not None:
            return ctx.outcome
    return Outcome.COMPLETED


async def _run_step(
    portal: PortalHandler, ctx: StepContext, hooks: Hooks, position: int, step: Step, pacing: Pacing
) -> None:
    script = portal.script(step.do)
    await hooks.step_started(position, step)
    noted = len(ctx.notes)
    try:
        if step.poll is None:
            await script(ctx)
        else:
            for poll in range(step.poll.max_polls):
                if poll:
                    await pacing.sleep(step.poll.every_seconds * pacing.scale)
                ctx.still_pending = False
                await script(ctx)
                if not ctx.still_pending or ctx.outcome is not None:
                    break
    except StepError as exc:
        await hooks.step_finished(position, step, outcome=type(exc).__name__, message=exc.message)
        raise
    except BaseException as exc:
        await hooks.step_finished(position, step, outcome="error", message=type(exc).__name__)
        raise
    remarks = ctx.notes[noted:]  # e.g. a document the step could not keep
    if ctx.still_pending:
        remarks.insert(0, "Still pending at the last poll.")
        if ctx.outcome is None:
            # The payer has not decided yet: the work is done, but its answer needs a person's eye.
            ctx.finish(Outcome.COMPLETED_WITH_ISSUES)
    await hooks.step_finished(position, step, outcome="ok", message=" ".join(remarks) or None)


async def _reconcile(
    sop: Sop,
    portal: PortalHandler,
    ctx: StepContext,
    hooks: Hooks,
    position: int,
    step: Step,
    resume: Resume,
    pacing: Pacing,
) -> None:
    await hooks.step_started(position, step)
    reconciler = portal.reconcilers.get(ctx.task_type)
    found = await reconciler(ctx) if reconciler is not None else None
    if found:
        # The attempt that saw the confirmation page is gone: the clerk keeps, as the evidence of
        # the submission, the portal's page that shows it.
        noted = len(ctx.notes)
        await portal.print_page(ctx, f"{ctx.task_type}-as-found-on-the-portal.pdf", DocumentKind.DOCUMENT)
        message = " ".join(["Found the earlier submission.", *ctx.notes[noted:]])
        await hooks.step_finished(position, step, outcome="reconciled", message=message)
        return
    if RECONCILE_GATE in resume.approved_gates:
        # A reviewer looked and allowed a new submission: the form is gone with the old page, so
        # the steps before the submit run again (reconciliation above still comes first on every
        # later attempt, so an approval never lets the same submission through twice).
        await hooks.step_finished(position, step, outcome="resubmitting", message="Approved by a reviewer.")
        for earlier, before in enumerate(sop.steps[:position]):
            if before.do not in portal.session_steps:
                await _run_step(portal, ctx, hooks, earlier, before, pacing)
                if ctx.outcome is not None:
                    return
        await hooks.before_irreversible(step)
        await _run_step(portal, ctx, hooks, position, step, pacing)
        return
    if found is False and resume.listing_wait > 0:
        wait = resume.listing_wait
        message = (
            "The portal does not list the earlier submission yet (a new one can take a while to "
            f"show); looking for it again in {_duration(wait)}."
        )
        await hooks.step_finished(position, step, outcome="not_listed_yet", message=message)
        raise NotListedYet(message, retry_after=wait)
    why = (
        "the portal shows no such submission" if found is False else "this portal cannot look submissions up"
    )
    await hooks.step_finished(position, step, outcome="unreconciled", message=why)
    raise GateReached(
        f"An earlier attempt may have submitted this already, and {why}; a person must check "
        "before it is submitted again.",
        gate=RECONCILE_GATE,
    )


def _duration(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{max(1, round(seconds))} s"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"
