"""A scripted portal for testing the runner without a payer portal (first-class, with its own tests).

Each step script name maps to a list of actions, consumed one per call (the last repeats):
an action is a StepError to raise, an `Outcome` to finish with, a dict to merge into the
result, or None to do nothing. Every call renders a small page so screenshots have something
to show, and is counted in `calls`.
"""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from handlers.context import StepContext
from handlers.errors import StepError
from handlers.registry import PortalHandler, Reconciler, StepScript
from sops.types import Outcome, TaskType

Action = StepError | Outcome | dict[str, Any] | None


@dataclass
class FakePortal:
    key: str = "fake"
    name: str = "Fake Payer"
    script: Mapping[str, Sequence[Action]] = field(default_factory=dict)
    # What reconciliation finds after a crash: a result dict, False (not there) or None (can't tell).
    reconcile_with: dict[str, Any] | bool | None = None
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    # Pixels of blank page below each step's text: a page longer than the viewport, for tests of
    # viewport against full-page screenshots.
    filler_px: int = 0

    def handler(self, step_names: Sequence[str]) -> PortalHandler:
        scripts: dict[str, StepScript] = {name: self._step(name) for name in step_names}
        reconcilers: dict[TaskType, Reconciler] = {t: self._reconcile for t in TaskType}
        return PortalHandler(self.key, self.name, "fake-1", scripts, reconcilers)

    def _step(self, name: str) -> StepScript:
        async def run(ctx: StepContext) -> None:
            index = self.calls[name]
            self.calls[name] += 1
            filler = f'<div style="height:{self.filler_px}px"></div><p>end</p>' if self.filler_px else ""
            await ctx.page.set_content(
                f"<h1>{html.escape(self.name)}</h1><p>step {html.escape(name)}</p>{filler}"
            )
            actions = self.script.get(name, [None])
            action = actions[min(index, len(actions) - 1)]
            if isinstance(action, StepError):
                raise action
            if isinstance(action, Outcome):
                ctx.finish(action)
            elif isinstance(action, dict):
                ctx.result.update(action)

        return run

    async def _reconcile(self, ctx: StepContext) -> bool | None:
        self.calls["reconcile"] += 1
        if isinstance(self.reconcile_with, dict):
            ctx.result.update(self.reconcile_with)
            return True
        return False if self.reconcile_with is False else None
