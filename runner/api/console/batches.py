"""The batches page: each import with its progress, refused rows, and a link into its tasks; a
banner for each schedule whose last firing could not read its source."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from runner.api.console.auth import OperatorDep
from runner.api.console.render import render
from runner.api.deps import SystemDep
from runner.core.batchstate import batch_public

router = APIRouter()

PAGE_SIZE = 20


@router.get("/batches", name="batches")
def batch_list(
    request: Request,
    system: SystemDep,
    me: OperatorDep,
    before: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    found = system.batches.recent(me.account.id, limit=PAGE_SIZE + 1, before=before)
    shown = [batch_public(*view) for view in found[:PAGE_SIZE]]
    more = shown[-1].id if len(found) > PAGE_SIZE and shown else None
    failing = [s for s in system.schedules.of_account(me.account.id) if s.last_error]
    return render(
        request, "batches.html", {"batches": shown, "more": more, "before": before, "failing": failing}
    )
