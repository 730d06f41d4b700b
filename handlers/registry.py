"""A portal's step scripts, by the names SOP steps use (`do:`), and its reconcilers.

Adding a portal = adding a package under `handlers/portals/` that builds one `PortalHandler`
and listing it in `handlers/portals/__init__.py`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from handlers.context import StepContext
from handlers.errors import StepError
from sops.types import DocumentKind, TaskType

StepScript = Callable[[StepContext], Awaitable[None]]
# Looks a submission up after a crash past the point of no return: True when found (and
# `ctx.result` filled as the capture step would), False when the portal shows it is not there,
# None when it cannot tell.
Reconciler = Callable[[StepContext], Awaitable[bool | None]]
# Keeps the page the portal shows as a PDF task file (`ctx.documents`), as a clerk prints it:
# (ctx, filename, kind).
PagePrinter = Callable[[StepContext, str, DocumentKind], Awaitable[None]]


async def print_as_shown(ctx: StepContext, filename: str, kind: DocumentKind) -> None:
    """A portal's page printed as it is (Chromium's print of the whole page)."""
    await ctx.documents.save_page_pdf(ctx.page, kind=kind, filename=filename)


class UnknownStep(StepError):
    """The SOP names a step script this portal does not have."""


@dataclass(frozen=True)
class PortalHandler:
    key: str
    name: str
    version: str  # the step scripts' version, recorded on every task this portal runs
    scripts: Mapping[str, StepScript]
    reconcilers: Mapping[TaskType, Reconciler] = field(default_factory=dict)
    # Steps that are safe to repeat after a crash past the point of no return (getting a session).
    session_steps: frozenset[str] = frozenset({"login"})
    # How this portal's page is printed (e.g. with a scrolling frame grown to its content first):
    # the engine keeps the page a reconciler found the submission on.
    print_page: PagePrinter = print_as_shown

    def script(self, name: str) -> StepScript:
        try:
            return self.scripts[name]
        except KeyError:
            raise UnknownStep(
                f"The {self.name} portal has no step script {name!r}; "
                f"it has {', '.join(sorted(self.scripts))}."
            ) from None
