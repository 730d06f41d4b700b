"""One attempt at one claimed task: pick the portal login, open a browser context, run the SOP,
and write what happened — every write fenced by the lease."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import select

from handlers.context import Credentials, Document, StepContext
from handlers.engine import Pacing, Resume, run_sop
from handlers.errors import LoginRefused, SessionExpired
from handlers.registry import PortalHandler
from runner.core import outcomes
from runner.core.artifacts import ArtifactStore, ScreenshotMode
from runner.core.breaker import Wait, portal_key
from runner.core.browser import AttemptEnd, Browser, BrowserAttempt
from runner.core.credentials import PortalCredentials
from runner.core.db import session_scope
from runner.core.errors import NotFound
from runner.core.files import FileStore, UploadLimits
from runner.core.followups import FollowUps, check_back
from runner.core.limits import Hold, LoginLimits
from runner.core.portal_faults import verdict
from runner.core.portal_files import PortalFiles
from runner.core.portal_health import PortalHealthBook, held_note
from runner.core.queue import Lease, LeaseLost, Queue, conclude, drop_lease
from runner.core.retries import Decision
from runner.core.sopbook import SopBook
from runner.core.states import FileSource, TaskStatus
from runner.core.tables import PortalCredential, Task, TaskFile, Trajectory, utcnow
from runner.core.tables.base import as_utc
from runner.core.tracing import DEFAULT_TRACE_MODE, TraceMode, TracePlan
from runner.core.trajectory import DEFAULT_SCREENSHOT_BUDGET, TrajectoryRecorder
from runner.core.transitions import move
from sops.errors import SopError
from sops.results import UndeclaredResult, check_result
from sops.schema import Sop
from sops.types import Outcome

log = logging.getLogger(__name__)
DOCUMENT_LIMITS = UploadLimits(
    max_file_bytes=25 * 1024 * 1024, max_files=10, max_total_bytes=100 * 1024 * 1024
)


@dataclass(frozen=True)
class ExecutionSettings:
    trace: TraceMode = DEFAULT_TRACE_MODE
    poll_scale: float = 1.0
    screenshots: ScreenshotMode = ScreenshotMode.STEPS
    screenshot_budget: int = DEFAULT_SCREENSHOT_BUDGET  # bytes per attempt
    reconcile: bool = True
    # Seconds a portal may take to list a new submission (Settings.listing_delay).
    listing_delay: float = 0.0
    # How long an attempt waits for a session on a busy portal login before going back to the queue.
    login_wait: float = 30.0
    # Limits on the documents kept from the portal: those of uploads (Settings.max_file_bytes, ...).
    document_limits: UploadLimits = DOCUMENT_LIMITS


class Executor:
    def __init__(
        self,
        engine: sa.Engine,
        queue: Queue,
        *,
        sops: SopBook,
        credentials: PortalCredentials,
        files: FileStore,
        artifacts: ArtifactStore,
        portals: Mapping[str, PortalHandler],
        settings: ExecutionSettings = ExecutionSettings(),
        clock: Callable[[], datetime] = utcnow,
        health: PortalHealthBook | None = None,
        follow_ups: FollowUps | None = None,
    ) -> None:
        self._engine = engine
        self._queue = queue
        self._sops = sops
        self._credentials = credentials
        self._files = files
        self._artifacts = artifacts
        self._portals = portals
        self._settings = settings
        self._clock = clock
        self._limits = LoginLimits(engine, queue, clock=clock)
        self._health = health or PortalHealthBook(engine, clock=clock)  # each portal's breaker
        self._follow_ups = follow_ups  # SOP `follow_up`s (followups.py); None: none are created

    async def run(self, lease: Lease, task: Task, browser: Browser) -> bool:
        """One attempt at `task`, as claimed under `lease`; False if it never started because the
        portal login stayed busy (the task went back to the queue without spending an attempt)."""
        sop = await asyncio.to_thread(self._sops.for_task, task)
        names = {key: p.name for key, p in self._portals.items()}
        try:
            credential = await asyncio.to_thread(
                self._credentials.for_payer, task.account_id, task.payer, names=names
            )
        except NotFound as exc:
            problems = [{"field": "payer", "message": exc.message}]
            await asyncio.to_thread(self._park, lease, TaskStatus.WAITING_FOR_INPUT, exc.message, problems)
            return True
        if credential.disabled_at is not None:
            note = (
                f"The {credential.payer} portal login {credential.username!r} is stopped after repeated "
                f"refused logins ({credential.disabled_reason}); fix it with `sopwright portals add`."
            )
            await asyncio.to_thread(self._park, lease, TaskStatus.FAILED, note, [])
            return True
        refused = await asyncio.to_thread(self._credentials.refusal, credential)
        if refused is not None:
            note = (
                f"The {credential.payer} portal login's address is not allowed: {refused} Correct it "
                "in the console's Settings or with `sopwright portals add`."
            )
            await asyncio.to_thread(self._park, lease, TaskStatus.FAILED, note, [])
            return True
        portal = self._portals.get(credential.payer)
        if portal is None:
            note = f"sopwright has no step scripts for the {credential.payer!r} portal."
            await asyncio.to_thread(self._park, lease, TaskStatus.FAILED, note, [])
            return True
        if not await self._portal_admits(lease, credential):
            return False
        hold = await self._hold_login(lease, credential)
        if hold is None:
            return False
        try:
            trajectory = await asyncio.to_thread(self._start, lease, portal, sop)
            await self._attempt(lease, task, sop, credential, portal, trajectory, browser, slot=hold.slot)
        finally:
            await asyncio.to_thread(self._limits.release, hold)
        return True

    async def _portal_admits(self, lease: Lease, credential: PortalCredential) -> bool:
        """False if the portal is down (and this task is not its probe): the task goes back to the
        queue without spending an attempt, due when the portal is checked or answers again."""
        key = portal_key(credential.url)
        gate = await asyncio.to_thread(self._health.admit, key, lease)
        if not isinstance(gate, Wait):
            return True
        note = held_note(key, gate.reason, gate.until)
        await asyncio.to_thread(
            self._queue.release, lease, reason=note, run_after=gate.until, unused=True, held_for=key
        )
        log.info("portal down; task held", extra={"task_id": lease.task_id, "portal": key})
        return False

    async def _hold_login(self, lease: Lease, credential: PortalCredential) -> Hold | None:
        """Wait (the task stays `dispatching`, its lease renewed) for a session on the login within
        the fleet-wide limits; past `login_wait`, give the task back to the queue (None)."""
        deadline = time.monotonic() + self._settings.login_wait
        while True:
            got = await asyncio.to_thread(self._limits.acquire, credential.id, lease)
            if isinstance(got, Hold):
                return got
            left = deadline - time.monotonic()
            if got.retry_in > left:
                retry = self._clock() + timedelta(seconds=got.retry_in + random.uniform(0, 1))
                reason = f"Waiting for the portal login: {got.reason}."
                await asyncio.to_thread(
                    self._queue.release, lease, reason=reason, run_after=retry, unused=True
                )
                log.info(
                    "login busy; task deferred", extra={"task_id": lease.task_id, "retry_in": got.retry_in}
                )
                return None
            # Jitter, so that workers waiting on one login do not ask in lockstep.
            await asyncio.sleep(got.retry_in * random.uniform(0.75, 1.25))

    async def _attempt(
        self,
        lease: Lease,
        task: Task,
        sop: Sop,
        credential: PortalCredential,
        portal: PortalHandler,
        trajectory: Trajectory,
        browser: Browser,
        *,
        slot: int = 0,
    ) -> None:
        """`slot`: the login's session this attempt holds (`Hold.slot`): its warm context, else a
        new context restored from the slot's saved session, saved again after. Two attempts at once
        never share a portal session, nor overwrite each other's."""
        secrets = self._credentials.secrets(credential)
        login_secrets = [secrets.password, secrets.totp_secret or ""]
        folder = self._artifacts.dir_for(task.account_id, task.id, trajectory.id)
        documents = await asyncio.to_thread(self._documents, task.id)
        error: BaseException | None = None
        outcome: Outcome | None = None
        stored = await asyncio.to_thread(self._credentials.saved_session, credential, slot)
        browsing = BrowserAttempt(
            browser,
            storage_state=json.loads(stored) if stored else None,
            # One account's login's session's warm context only: never another account's, login's
            # or session's.
            warm_key=f"{task.account_id}:{credential.id}:{slot}",
            trace=TracePlan(self._settings.trace, task.attempts),
            trace_file=folder / "trace.zip",
            secrets=login_secrets,
            save_session=functools.partial(self._credentials.save_session, credential.id, slot),
            task_id=task.id,
        )
        async with browsing:
            ctx = StepContext(
                page=browsing.page,
                task_type=task.type,
                fields=task.fields,
                credentials=Credentials(credential.username, secrets.password, secrets.totp_secret),
                portal_url=credential.url,
                uploads=documents,
                result=dict(task.result or {}),
                document_sink=PortalFiles(
                    self._engine,
                    self._queue,
                    lease,
                    files=self._files,
                    limits=self._settings.document_limits,
                    folder=folder,
                ),
            )
            last = len(sop.steps) - 1
            recorder = TrajectoryRecorder(
                self._engine,
                self._queue,
                lease,
                trajectory_id=trajectory.id,
                account_id=task.account_id,
                folder=folder,
                relative=self._artifacts.relative(folder),
                page=browsing.page,
                screenshots=self._settings.screenshots,
                screenshot_budget=self._settings.screenshot_budget,
                ends_after=lambda position: position == last or ctx.outcome is not None,
                secrets=login_secrets,
            )
            resume = Resume(
                # reconcile=False is the chaos test's negative control: it treats a crash past the
                # submit as if nothing had been sent, and so can submit twice.
                submit_attempted=self._settings.reconcile and task.submit_attempted_at is not None,
                approved_gates=frozenset(task.approved_gates),
                listing_wait=self._listing_wait(task, credential),
            )
            try:
                outcome = await run_sop(
                    sop, portal, ctx, recorder, resume=resume, pacing=Pacing(self._settings.poll_scale)
                )
            except LeaseLost:
                raise  # (as is a cancellation): the attempt did not end; nothing more is written
            except Exception as exc:
                error = exc
            failed = error is not None or outcome is Outcome.FAILED
            browsing.end(
                AttemptEnd(
                    failed=failed,
                    keep_session=not isinstance(error, LoginRefused | SessionExpired),
                    reusable=not failed,
                )
            )
            with contextlib.suppress(Exception):  # evidence only: it never changes the outcome
                await recorder.attempt_ended()
        trace_path = self._artifacts.relative(browsing.trace_file) if browsing.trace_file else None
        await asyncio.to_thread(
            self._finish, lease, task, sop, credential, trajectory, ctx, outcome, error, trace_path, slot
        )

    def _listing_wait(self, task: Task, credential: PortalCredential) -> float:
        """What is left of the portal's listing delay (its login's, else the fleet's) since the
        task's submit was announced."""
        own = credential.listing_delay
        delay = self._settings.listing_delay if own is None else own
        submitted = as_utc(task.submit_attempted_at)
        if submitted is None or not delay:
            return 0.0
        return max(0.0, delay - (self._clock() - submitted).total_seconds())

    # -- database writes (run in a thread) --------------------------------------------------

    def _documents(self, task_id: str) -> list[Document]:
        with session_scope(self._engine, readonly=True) as session:
            rows = session.exec(
                select(TaskFile).where(TaskFile.task_id == task_id, TaskFile.source == FileSource.UPLOAD)
            ).all()
        return [Document(self._files.path_for(r.sha256), r.filename, r.content_type) for r in rows]

    def _start(self, lease: Lease, portal: PortalHandler, sop: Sop) -> Trajectory:
        with session_scope(self._engine) as session:
            task = self._queue.hold(session, lease)
            trajectory = Trajectory(
                task_id=task.id, account_id=task.account_id, attempt=task.attempts, worker=lease.owner
            )
            session.add(trajectory)
            session.flush()  # draws the trajectory's public id
            task.trajectory_id = trajectory.id
            task.trajectory_public_id = trajectory.public_id
            task.step_script_version = f"{portal.key}@{portal.version}"
            task.sop_version = sop.version  # what runs (the pinned SOP's, but for an unreadable pin)
            move(session, task, TaskStatus.RUNNING, actor=f"worker:{lease.owner}", action="start")
        return trajectory

    def crashed(self, lease: Lease, error: BaseException) -> TaskStatus:
        """An attempt that crashed outside the SOP run (a bug, the browser would not open a
        context): retried on the SOP's back-off like any unexpected error, and failed once the
        SOP's attempts are spent, so that a task which always crashes does not cycle forever.
        LeaseLost if the task is no longer this worker's."""
        now = self._clock()
        with session_scope(self._engine) as session:
            task = self._queue.hold(session, lease)
            sop = self._sops.for_task(task, session=session)
            decision = outcomes.from_error(
                sop,
                error,
                attempts=task.attempts,
                now=now,
                result=dict(task.result or {}),
                submit_attempted=task.submit_attempted_at is not None,
            )
            conclude(
                session,
                task,
                decision,
                actor=f"worker:{lease.owner}",
                action="crash",
                trajectory_id=task.trajectory_id,
                now=now,
            )
            return decision.status

    def _park(self, lease: Lease, status: TaskStatus, note: str, problems: list[dict[str, str]]) -> None:
        """End an attempt before the browser (no login for the payer, login stopped): the task goes
        from `dispatching` straight to `status`."""
        with session_scope(self._engine) as session:
            task = self._queue.hold(session, lease)
            task.notes = note
            task.problems = problems
            if status is TaskStatus.FAILED:
                task.result = {**(task.result or {}), "failure_reason": note}
            drop_lease(task)
            move(session, task, status, actor=f"worker:{lease.owner}", action="finish", message=note)

    def _finish(
        self,
        lease: Lease,
        task: Task,
        sop: Sop,
        credential: PortalCredential,
        trajectory: Trajectory,
        ctx: StepContext,
        outcome: Outcome | None,
        error: BaseException | None,
        trace_path: str | None,
        slot: int,
    ) -> None:
        now = self._clock()
        if isinstance(error, LoginRefused):
            self._credentials.login_refused(credential.id, error.message)
        elif error is None or ctx.result:
            self._credentials.login_succeeded(credential.id)
        if isinstance(error, SessionExpired):
            self._credentials.save_session(credential.id, slot, None)  # the slot's session ended
        portal = portal_key(credential.url)
        said = verdict(error if outcome is None else None)  # what the portal did, whatever the scripts
        if ctx.result:  # what the portal answered, and which portal answered it
            ctx.result["portal"] = credential.payer
        try:
            check_result(task.type, ctx.result)
        except UndeclaredResult as exc:
            outcome, error = None, exc
        draft = None
        if self._follow_ups is not None:
            try:
                draft = self._follow_ups.draft(task, sop, outcome, ctx.result)
            except SopError:
                log.warning(
                    "the follow-up's inputs cannot be rendered", extra={"task_id": task.id}, exc_info=True
                )
        with session_scope(self._engine) as session:
            held = self._health.record(session, portal, lease, said)
            current = self._queue.hold(session, lease)
            if held is not None:  # the portal is down: this attempt is given back (breaker.py)
                decision = Decision(
                    TaskStatus.PENDING, held.note, result=ctx.result or None, run_after=held.until
                )
                current.attempts = max(0, current.attempts - 1)
                current.held_for_portal = portal
            elif outcome is not None:
                decision = outcomes.from_outcome(
                    sop, outcome, fields=dict(task.fields), result=ctx.result, task_number=task.task_number
                )
                if current.follow_up is not None:  # a follow-up's check: decided, or check again
                    decision = check_back(current, decision, ctx.result, now)
                elif draft is not None and self._follow_ups is not None:
                    # Created with this task's final write (and its webhook row).
                    decision = self._follow_ups.spawn(session, current, draft, decision, now)
            else:
                assert error is not None
                decision = outcomes.from_error(
                    sop,
                    error,
                    attempts=task.attempts,
                    now=now,
                    result=ctx.result,
                    submit_attempted=current.submit_attempted_at is not None,
                )
                log.info(
                    "attempt ended",
                    extra={
                        "task_id": task.id,
                        "error": type(error).__name__,
                        "status": decision.status.value,
                    },
                )
            conclude(
                session,
                current,
                decision,
                actor=f"worker:{lease.owner}",
                action="finish",
                trajectory_id=trajectory.id,
                trace_path=trace_path,
                now=now,
            )
