"""Chaos: tasks of every type on both payers, workers killed with SIGKILL, a faulty portal and a
faulty webhook receiver; at the end every task must be final, submitted once and announced once.

    .venv/bin/python bench/chaos.py [--tasks 200] [--workers 3] [--concurrency 2] [--kill-every 10]
        [--error-rate 0.1] [--webhook-failure-rate 0.2] [--no-reconcile] [--seed 1]
        [--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test]

PostgreSQL: the run creates a database of its own on that server and drops it at the end. With
`--no-reconcile` (the negative control) a worker is killed only while it holds a task the portal
has already received, the portal lets duplicates through, and the run must find duplicates: it
exits 1 when any check fails, whichever the mode. The logs of a failed run are kept (path printed).
"""

from __future__ import annotations

import argparse
import sys

from chaos_harness import ChaosConfig, ChaosReport, run_chaos
from harness import console, show


def figures(report: ChaosReport) -> list[tuple[str, object, str]]:
    """(figure, value, what it must be) rows of the final table."""
    statuses = ", ".join(f"{status} {n}" for status, n in sorted(report.statuses.items()))
    followed = ", ".join(f"{status} {n}" for status, n in sorted(report.follow_up_statuses.items()))
    return [
        ("tasks (follow-ups included)", report.tasks, ""),
        ("final states", statuses, "all final"),
        ("tasks not final (stuck)", len(report.stuck), "0"),
        ("  the run stalled (no task became final for a while)", report.stalled, "False"),
        ("follow-up tasks (submit nothing)", report.follow_ups, ""),
        ("  their final states", followed or "-", "all final"),
        ("  follow-ups of no task, or a second one of a task", report.follow_ups_misplaced, "0"),
        ("  clock advances + check-now rounds", report.follow_up_rounds, ""),
        ("submit tasks", report.submit_tasks, ""),
        ("  submitted exactly once", report.submitted_once, ""),
        ("  never submitted (failed before the submit)", report.not_submitted, ""),
        ("  completed without a submission", report.completed_unsubmitted, "0"),
        ("  submitted more than once", report.submitted_more, "0"),
        ("  duplicate submissions", report.duplicates, "0"),
        ("  submissions matching no task", report.unmatched_submissions, "0"),
        ("  captured number differs from the portal's", report.wrong_identifier, "0"),
        ("webhook requests", report.webhook_requests, ""),
        ("  answered 500 on purpose", report.webhook_failed_on_purpose, ""),
        ("  bad signatures", report.webhook_bad_signature, "0"),
        ("tasks with exactly one acknowledged webhook-id", report.tasks_acked_once, "all"),
        ("  tasks with none", report.tasks_unacked, "0"),
        ("  tasks with more than one webhook-id", report.tasks_acked_more, "0"),
        ("  same webhook-id acknowledged again (lost ack)", report.repeated_acks, "allowed"),
        ("  announced status differs from the task's", report.webhook_status_mismatch, "0"),
        ("  deliveries not delivered", report.undelivered, "0"),
        ("unexpected errors in the logs", len(report.unexpected_log_errors), "0"),
        ("workers killed (SIGKILL) and restarted", report.kills, ""),
        ("portal session expiries", report.session_expiries, ""),
        ("reconcile-gate reviews approved (no submission found)", report.reviews_approved, ""),
        ("inputs answered by the operator (payer named again)", sum(report.inputs_answered.values()), ""),
        ("unexpected reviews or questions", len(report.reviews_unexpected), "0"),
        ("seconds", f"{report.seconds:.0f}", ""),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, default=200)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=2, help="tasks per worker at once")
    parser.add_argument("--kill-every", type=float, default=10.0, help="mean seconds between kills")
    parser.add_argument("--error-rate", type=float, default=0.1, help="portal 5xx share")
    parser.add_argument("--webhook-failure-rate", type=float, default=0.2)
    parser.add_argument("--session-expiry-every", type=float, default=20.0, help="mean seconds")
    parser.add_argument("--no-reconcile", action="store_true", help="the negative control")
    parser.add_argument("--no-follow-ups", action="store_true", help="the account turns follow-ups off")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds for every task to end")
    parser.add_argument(
        "--stall", type=float, default=300.0, help="give up after this long without a task becoming final"
    )
    parser.add_argument(
        "--database-url",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="PostgreSQL server",
    )
    args = parser.parse_args()
    config = ChaosConfig(
        admin_url=args.database_url,
        tasks=args.tasks,
        workers=args.workers,
        concurrency=args.concurrency,
        kill_every=args.kill_every,
        error_rate=args.error_rate,
        webhook_failure_rate=args.webhook_failure_rate,
        session_expiry_every=args.session_expiry_every,
        reconcile=not args.no_reconcile,
        kill_past_submit=args.no_reconcile,
        follow_ups=not args.no_follow_ups,
        seed=args.seed,
        timeout=args.timeout,
        stall_seconds=args.stall,
    )
    report = run_chaos(config, progress=console.print)
    notes = [f"failed check: {line}" for line in report.failures()]
    notes += [f"task: {line}" for line in report.details[:10]]
    notes += [f"log: {line}" for line in report.unexpected_log_errors[:10]]
    notes += [f"review: {line}" for line in report.reviews_unexpected[:10]]
    notes += [f"stuck: {line}" for line in report.stuck[:10]]
    notes += [f"operator answered {n}x: {note}" for note, n in report.inputs_answered.most_common(5)]
    if not report.ok:
        notes.append(f"logs kept in {report.work_dir}")
    mode = "reconcile OFF (negative control)" if args.no_reconcile else "reconcile on"
    title = (
        f"Chaos: {args.tasks} tasks, {args.workers} workers x {args.concurrency}, a kill every "
        f"~{args.kill_every:g} s, portal 5xx {args.error_rate:.0%}, webhook failures "
        f"{args.webhook_failure_rate:.0%}, {mode}"
    )
    show(title, ["figure", "value", "must be"], figures(report), notes)
    console.print("[bold green]PASS[/]" if report.ok else "[bold red]FAIL[/]")
    sys.exit(0 if report.ok else 1)


if __name__ == "__main__":
    main()
