"""The chaos run's figures: what the database, the portal's inspection API, the webhook receiver
and the logs say at the end, and which checks failed."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from chaos_receiver import FlakyReceiver
from chaos_tasks import KIND, ChaosTask
from harness import FINAL, Portal
from sqlmodel import select

from runner.core.db import session_scope
from runner.core.tables import Task, WebhookDelivery

IDENTIFIER = {"claim": "claim_number", "prior_auth": "reference_number", "appeal": "tracking_number"}


@dataclass
class ChaosReport:
    tasks: int = 0  # follow-ups included
    statuses: Counter[str] = field(default_factory=Counter)
    stuck: list[str] = field(default_factory=list)  # not final at the end: "id status"
    submit_tasks: int = 0
    submitted_once: int = 0
    not_submitted: int = 0  # final without any submission (a failed task may be one)
    submitted_more: int = 0  # tasks with more than one submission
    duplicates: int = 0  # submissions beyond the first, over all tasks
    unmatched_submissions: int = 0  # submissions no task of the run explains
    completed_unsubmitted: int = 0  # completed* tasks with no submission on the portal
    wrong_identifier: int = 0  # the captured number is not the portal's
    follow_ups: int = 0  # follow-up tasks the run's submissions created
    follow_up_statuses: Counter[str] = field(default_factory=Counter)
    follow_ups_misplaced: int = 0  # a follow-up of no posted task, or a second one of a task
    follow_up_rounds: int = 0  # clock advances + "check now" rounds
    webhook_requests: int = 0
    webhook_failed_on_purpose: int = 0
    webhook_bad_signature: int = 0
    tasks_acked_once: int = 0  # exactly one distinct webhook-id acknowledged
    tasks_unacked: int = 0
    tasks_acked_more: int = 0  # more than one distinct webhook-id acknowledged
    repeated_acks: int = 0  # the same webhook-id acknowledged again (a lost ack, allowed)
    webhook_status_mismatch: int = 0
    undelivered: int = 0  # deliveries still not delivered at the end
    unexpected_log_errors: list[str] = field(default_factory=list)
    kills: int = 0
    session_expiries: int = 0
    reviews_approved: int = 0
    approvals: Counter[int] = field(default_factory=Counter)  # reconcile-gate approvals per task
    stalled: bool = False  # the run gave up: no task became final for `stall_seconds`
    reviews_unexpected: list[str] = field(default_factory=list)
    # waiting_for_input answered by the scripted operator (the payer named again), by the note
    inputs_answered: Counter[str] = field(default_factory=Counter)
    details: list[str] = field(default_factory=list)  # one line per task a check counts against
    seconds: float = 0.0
    work_dir: str = ""

    def failures(self) -> list[str]:
        """The checks that failed, each in one line (empty: the run passed)."""
        checks = {
            "tasks not final": len(self.stuck),
            "tasks submitted more than once": self.submitted_more,
            "follow-ups of no posted task, or a second one of a task": self.follow_ups_misplaced,
            "submissions that match no task": self.unmatched_submissions,
            "completed tasks with no submission": self.completed_unsubmitted,
            "captured identifiers that differ from the portal's": self.wrong_identifier,
            "tasks without an acknowledged webhook": self.tasks_unacked,
            "tasks with more than one acknowledged webhook-id": self.tasks_acked_more,
            "webhooks with a bad signature": self.webhook_bad_signature,
            "webhooks whose status differs from the task's": self.webhook_status_mismatch,
            "deliveries not delivered": self.undelivered,
            "unexpected errors in the logs": len(self.unexpected_log_errors),
            "unexpected reviews": len(self.reviews_unexpected),
        }
        return [f"{count} {what}" for what, count in checks.items() if count]

    @property
    def ok(self) -> bool:
        return not self.failures()


# -- the run -------------------------------------------------------------------------------------


Rows = dict[int, Task]


def task_rows(engine: sa.Engine) -> Rows:
    with session_scope(engine, readonly=True) as session:
        return {t.public_id: t for t in session.exec(select(Task)).all()}


def submissions_by_key(portal: Portal) -> tuple[dict[tuple[str, str], list[dict[str, Any]]], int]:
    """The portal's submissions of the submit kinds by (kind, member id); and how many have none."""
    found: dict[tuple[str, str], list[dict[str, Any]]] = {}
    keyless = 0
    for submission in portal.admin.get("/_mock/submissions").json():
        if submission["kind"] not in IDENTIFIER:
            continue
        member = (submission.get("fields") or {}).get("member_id")
        if not member:
            keyless += 1
        else:
            found.setdefault((submission["kind"], member), []).append(submission)
    return found, keyless


def key_of(task: ChaosTask) -> tuple[str, str] | None:
    return (KIND[task.type], task.member_id) if task.submits else None


def measure(
    report: ChaosReport, engine: sa.Engine, portal: Portal, receiver: FlakyReceiver, ids: dict[int, ChaosTask]
) -> None:
    rows = task_rows(engine)
    report.tasks = len(rows)
    report.statuses = Counter(t.status for t in rows.values())
    report.stuck = [
        f"{t.id} {t.type} {t.status}, {t.attempts} attempt(s), approved {report.approvals[t.public_id]}x "
        f"at the reconcile gate: {str(t.notes)[:160]}"
        for t in rows.values()
        if t.status not in FINAL
    ]
    follow_ups = [t for t in rows.values() if t.parent_task_id is not None]
    report.follow_ups = len(follow_ups)
    report.follow_up_statuses = Counter(t.status for t in follow_ups)
    parents = Counter(t.parent_public_id for t in follow_ups)
    report.follow_ups_misplaced = sum(n for p, n in parents.items() if p not in ids) + sum(
        n - 1 for p, n in parents.items() if p in ids and n > 1
    )
    for task in follow_ups:
        if task.parent_public_id not in ids or parents[task.parent_public_id] > 1:
            report.details.append(f"follow-up #{task.task_number} of {task.parent_public_id}: {task.status}")
    found, report.unmatched_submissions = submissions_by_key(portal)
    keys = {key_of(task) for task in ids.values()} - {None}
    report.unmatched_submissions += sum(len(sent) for key, sent in found.items() if key not in keys)
    for task_id, task in ids.items():
        key = key_of(task)
        if key is None:
            continue
        report.submit_tasks += 1
        sent = found.get(key, [])
        row = rows[task_id]
        about = f"#{row.task_number} {task.type} on {task.payer}, {row.status}: {row.notes}"
        if not sent:
            report.not_submitted += 1
            if row.status != "failed":
                report.completed_unsubmitted += 1
                report.details.append(f"no submission: {about}")
        elif len(sent) == 1:
            report.submitted_once += 1
            name = IDENTIFIER[key[0]]
            captured, issued = (row.result or {}).get(name), sent[0]["identifiers"].get(name)
            if captured and issued and captured != issued:
                report.wrong_identifier += 1
                report.details.append(f"captured {captured}, portal issued {issued}: {about}")
        else:
            report.submitted_more += 1
            report.duplicates += len(sent) - 1
            report.details.append(f"{len(sent)} submissions: {about}")
    with receiver._lock:
        report.webhook_requests = receiver.requests
        report.webhook_failed_on_purpose = len(receiver.failed)
        report.webhook_bad_signature = receiver.bad_signature
        report.repeated_acks = sum(n - 1 for n in receiver.acks.values())
        per_task: Counter[int] = Counter(receiver.task_of.values())
        report.webhook_status_mismatch = sum(
            1 for wid, task_id in receiver.task_of.items() if receiver.status_of[wid] != rows[task_id].status
        )
    # One acknowledged webhook per task: the posted ones and their follow-ups alike.
    report.tasks_acked_once = sum(1 for task_id in rows if per_task[task_id] == 1)
    report.tasks_unacked = sum(1 for task_id in rows if per_task[task_id] == 0)
    report.tasks_acked_more = sum(1 for task_id in rows if per_task[task_id] > 1)
    with session_scope(engine, readonly=True) as session:
        report.undelivered = session.exec(
            select(sa.func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status != "delivered")
        ).one()


# Log lines at ERROR that the chaos itself causes and that are not faults of sopwright: none so far.
EXPECTED_ERRORS: tuple[str, ...] = ()


def scan_logs(logs: list[Path], portal_log: Path) -> list[str]:
    """ERROR/CRITICAL lines and tracebacks in sopwright's JSON logs (and tracebacks in the portal's),
    minus `EXPECTED_ERRORS`. A worker killed mid-write may leave a torn last line: skipped."""
    unexpected = []
    for log in logs:
        lines = log.read_text(errors="replace").splitlines() if log.exists() else []
        for number, line in enumerate(lines, 1):
            try:
                entry = json.loads(line)
            except ValueError:
                if "Traceback" in line or " ERROR " in line or line.startswith("ERROR"):
                    unexpected.append(f"{log.name}:{number}: {line[:200]}")
                continue
            if not isinstance(entry, dict):
                continue
            level = str(entry.get("level", "")).lower()
            if (level in ("error", "critical") or "exception" in entry) and not any(
                e in str(entry.get("message")) for e in EXPECTED_ERRORS
            ):
                unexpected.append(f"{log.name}:{number}: {entry.get('logger')}: {entry.get('message')}")
    if portal_log.exists():
        # A worker killed mid-request leaves the portal reading a body that never comes: expected.
        for block in portal_log.read_text(errors="replace").split("Traceback (most recent call last):")[1:]:
            ending = next((line for line in block.splitlines() if line and not line[0].isspace()), "")
            if "ClientDisconnect" not in ending:
                unexpected.append(f"{portal_log.name}: {ending[:200]}")
    return unexpected
