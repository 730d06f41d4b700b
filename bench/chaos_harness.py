"""The chaos run, shared by `bench/chaos.py` and `tests/reliability/test_chaos.py`.

A fresh PostgreSQL database, the mock portal (5xx, random latency, a session expiry now and then),
`sopwright serve --no-worker` (the API and a webhook dispatcher), N `sopwright worker` processes
(each also runs a webhook dispatcher), and a webhook receiver that answers 500 to a share of
deliveries. Tasks of all four types on both payers are posted through the API; a worker is killed
with SIGKILL (its whole process group: its browser dies with it) every few seconds and started
again. A scripted reviewer plays the person the reconcile gate asks for: it approves a resubmission
only when the portal's inspection API shows no submission of that task. Submissions are followed up
(issue 13): while the posted tasks still run, the run moves the portal's clock past the payers'
decisions and asks each follow-up waiting on the payer for its check now (`POST
/tasks/{id}/follow-up`), under the same chaos; a check that finds the payer still deciding gets
another round. The figures at the end (`ChaosReport`) say whether every task, follow-ups included,
is final, submitted once (follow-ups submit nothing) and announced once.
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa
from chaos_fleet import Fleet, fleet_env
from chaos_receiver import FlakyReceiver
from chaos_report import ChaosReport, Rows, key_of, measure, scan_logs, submissions_by_key, task_rows
from chaos_tasks import PAYER_NAME, ChaosTask, chaos_fixtures, chaos_tasks
from harness import (
    FINAL,
    PY,
    SECRET_KEY,
    Portal,
    free_port,
    fresh_database,
    process,
    running_portal,
)
from sqlmodel import select

from handlers.engine import RECONCILE_GATE
from runner.core import db
from runner.core.db import session_scope
from runner.core.defaults import validate_defaults
from runner.core.settings import Settings
from runner.core.system import build
from runner.core.tables import Task, WebhookDelivery, utcnow
from runner.core.tables.base import as_utc

# The SOPs' own retry policy waits a minute and more between attempts and gives up after three:
# right for a real portal, slow for a portal that fails on purpose. The chaos account installs the
# built-in SOPs with this policy instead (an account's SOP override, as any account may).
FAST_RETRY = "retry: {max_attempts: 20, backoff_seconds: 1, backoff_multiplier: 2, max_backoff_seconds: 8}"

# Follow-ups wait hours and days of the payer's time between checks; the run moves the portal's
# clock by this much per round, so that a claim's stages (an hour each) and a pended auth's decision
# (30 minutes) are past at the next check: one round is enough unless a check finds the payer still
# deciding. Six hours a round keeps Beacon's security acknowledgement (14 days) out of the way of
# any short run; each advance also ends every portal session (idle 15 minutes), one more session
# expiry.
FOLLOW_UP_ADVANCE = 6 * 3600
# A follow-up whose next check is further off than this waits on the payer (its SOP's hours or
# days): only a round makes it due now. One due sooner waits out a back-off (FAST_RETRY's and the
# breaker's, 8 s at most; a reaped lease's, none) and runs again without any round.
WAITS_ON_PAYER = timedelta(minutes=1)
# While posted tasks still run, follow-ups are created one by one as submissions complete: a round
# waits this long after the last, so that those created close together share it, and so that its
# advance (which ends every portal session) comes no more often than the run's session expiries.
ROUND_GAP_SECONDS = 20.0


@dataclass
class ChaosConfig:
    admin_url: str  # a PostgreSQL server (any database on it): the run creates and drops its own
    tasks: int = 200
    workers: int = 3
    concurrency: int = 2
    kill_every: float = 10.0  # seconds between kills, on average (0: no kills)
    error_rate: float = 0.10
    latency_ms: int = 0
    latency_jitter_ms: int = 300  # every payer request waits a random 0-300 ms
    session_expiry_every: float = 20.0  # seconds between session expiries, on average (0: never)
    webhook_failure_rate: float = 0.20
    reconcile: bool = True
    seed: int = 1
    timeout: float = 1800.0  # seconds for every task to be final, at most
    # ... and the run gives up sooner when no task has become final (nor a follow-up been created)
    # for this long: the budget scales with the machine's speed, a livelock still ends the run.
    stall_seconds: float = 300.0
    # The negative control: kill only a worker that holds a task whose submission the portal has
    # already received, and let resubmissions through (duplicate_mode silent on both payers).
    kill_past_submit: bool = False
    lease_seconds: float = 5.0
    follow_ups: bool = True  # off: the account turns its follow-ups off (no follow-up tasks)
    keep_work_dir: bool | None = None  # logs, artifacts; None: kept when a check fails


@dataclass
class Setup:
    account_id: str
    api_key: str
    webhook_secret: str


def set_up(
    settings: Settings, portal: Portal, receiver_url: str, concurrency: int, *, follow_ups: bool = True
) -> Setup:
    """The chaos account: webhook URL, one login per payer, the SOPs with a fast retry policy (and
    follow-ups turned off when `follow_ups` is false)."""
    core = build(settings)
    try:
        created = core.accounts.create("Chaos Clinic", webhook_url=receiver_url)
        if not follow_ups:
            core.accounts.set_defaults(
                created.account.id,
                validate_defaults(
                    {"follow_up": {"submit_claim": "off", "submit_prior_authorization": "off"}}
                ),
            )
        users = portal.admin.get("/_mock/users").json()
        for payer in ("acme", "beacon"):
            user = users[payer][0]
            core.credentials.add(
                created.account.id,
                payer=payer,
                url=f"{portal.url}/{payer}",
                username=user["username"],
                password=user["password"],
                totp_secret=user["totp_secret"],
                max_sessions=concurrency,
                rate_per_minute=100_000,
            )
        for path in sorted((Path(__file__).resolve().parents[1] / "sops" / "library").glob("*.yaml")):
            lines = [FAST_RETRY if s.startswith("retry:") else s for s in path.read_text().splitlines()]
            core.sops.install(created.account.id, "\n".join(lines) + "\n", source=f"chaos {path.name}")
        return Setup(created.account.id, created.api_key, created.webhook_secret)
    finally:
        core.close()


def run_chaos(config: ChaosConfig, *, progress: Any = None) -> ChaosReport:
    """One chaos run; `progress(line)` hears what happens (default: nothing)."""
    say = progress or (lambda line: None)
    work = Path(tempfile.mkdtemp(prefix="sopwright-chaos-"))
    tasks = chaos_tasks(config.tasks)
    receiver = FlakyReceiver(config.webhook_failure_rate, config.seed)
    fixtures = chaos_fixtures(work / "fixtures", tasks)
    report = ChaosReport(work_dir=str(work))
    started = time.monotonic()
    with (
        fresh_database(config.admin_url, "sopwright_chaos") as url,
        receiver.running(),
        running_portal(work, 0, fixtures) as portal,
    ):
        settings = Settings(data_dir=work, database_url=url, secret_key=SECRET_KEY, allow_hosts="127.0.0.1")
        setup = set_up(settings, portal, receiver.url, config.concurrency, follow_ups=config.follow_ups)
        receiver.secret = setup.webhook_secret
        env = fleet_env(
            work,
            url,
            lease_seconds=config.lease_seconds,
            SOPWRIGHT_WEBHOOK_TIMEOUT="5",
            SOPWRIGHT_RECONCILE="true" if config.reconcile else "false",
            # The portal's circuit breaker stays on (5 faults in a row mark it down), with the
            # back-off of FAST_RETRY: a probe is a whole attempt, and at a 10 % page failure rate
            # most probes fail, so the default back-off (30 s doubling to 10 minutes) parks every
            # task of the portal for minutes at a time and the run outlasts any budget.
            SOPWRIGHT_BREAKER_BACKOFF_SECONDS="1",
            SOPWRIGHT_BREAKER_MAX_BACKOFF_SECONDS="8",
        )
        knobs: dict[str, Any] = {
            "error_rate": config.error_rate,
            "error_seed": config.seed,
            "error_scope": "pages",  # a share of page loads fails, as portals do; not every fetch()
            "latency_ms": config.latency_ms,
            "latency_jitter_ms": config.latency_jitter_ms,
        }
        if config.kill_past_submit:
            knobs["duplicate_mode"] = {"acme": "silent", "beacon": "silent"}
        portal.knobs(**knobs)
        port = free_port()
        api_url = f"http://127.0.0.1:{port}"
        serve = [PY, "-m", "runner.cli.main", "serve", "--no-worker", "--port", str(port)]
        fleet = Fleet(config.workers, config.concurrency, env, work)
        headers = {"Authorization": f"Bearer {setup.api_key}"}
        with (
            process("API", serve, env, work / "serve.log", f"{api_url}/healthz"),
            httpx.Client(base_url=api_url, headers=headers, timeout=60) as api,
        ):
            fleet.start_all()
            try:
                ids = post_tasks(api, tasks)
                say(f"posted {len(ids)} tasks; chaos until every task is final")
                engine = db.create_engine(url)
                try:
                    Chaos(config, portal, fleet, api, engine, ids, report, say).run()
                    wait_for_webhooks(engine, receiver, say)
                    measure(report, engine, portal, receiver, ids)
                finally:
                    engine.dispose()
                    portal.admin.close()
            finally:
                fleet.stop_all()
    report.unexpected_log_errors = scan_logs([work / "serve.log", *fleet.logs], work / "portal.log")
    report.seconds = time.monotonic() - started
    if not (report.ok if config.keep_work_dir is None else config.keep_work_dir):
        shutil.rmtree(work, ignore_errors=True)
    return report


def post_tasks(api: httpx.Client, tasks: list[ChaosTask]) -> dict[int, ChaosTask]:
    ids = {}
    for task in tasks:
        response = api.post("/tasks", json={"type": task.type, "data": task.data})
        response.raise_for_status()
        body = response.json()
        if body["status"] != "pending":
            raise RuntimeError(f"task {task.number} ({task.type}) is {body['status']}: {body['notes']}")
        ids[body["id"]] = task
    return ids


class Chaos:
    """Kills workers, ends portal sessions and answers reviews until every task is final."""

    def __init__(
        self,
        config: ChaosConfig,
        portal: Portal,
        fleet: Fleet,
        api: httpx.Client,
        engine: sa.Engine,
        ids: dict[int, ChaosTask],
        report: ChaosReport,
        say: Any,
    ) -> None:
        self.config, self.portal, self.fleet, self.api = config, portal, fleet, api
        self.engine, self.ids, self.report, self.say = engine, ids, report, say
        self.rng = random.Random(config.seed)
        self.killed: set[str] = set()  # tasks whose worker the negative control killed
        self.last_round = float("-inf")

    def _after(self, mean: float) -> float:
        """When the next event of a given mean gap is due (inf: never)."""
        return time.monotonic() + self.rng.uniform(0.5, 1.5) * mean if mean > 0 else float("inf")

    def run(self) -> None:
        deadline = time.monotonic() + self.config.timeout
        next_kill = self._after(self.config.kill_every)
        next_expiry = self._after(self.config.session_expiry_every)
        last_word = 0.0
        progress, progressed = (-1, -1), time.monotonic()
        while time.monotonic() < deadline:
            rows = task_rows(self.engine)
            open_ = [t for t in rows.values() if t.status not in FINAL]
            if not open_:
                return
            if (len(rows), len(open_)) != progress:
                progress, progressed = (len(rows), len(open_)), time.monotonic()
            elif time.monotonic() - progressed > self.config.stall_seconds:
                self.report.stalled = True
                self.say(f"no task became final for {self.config.stall_seconds:.0f} s: giving up")
                return
            if time.monotonic() - last_word > 15:
                last_word = time.monotonic()
                counts = Counter(t.status for t in rows.values())
                self.say(
                    f"{len(rows) - len(open_)}/{len(rows)} final; {dict(counts)}; kills {self.report.kills}"
                )
            if any(t.status == "pending_review" for t in open_):
                self.review([t for t in open_ if t.status == "pending_review"])
            for task in open_:
                if task.status == "waiting_for_input":
                    self.answer(task)
            if self.config.kill_past_submit:
                self.kill_past_submit(open_)
            elif time.monotonic() >= next_kill:
                self.fleet.kill(self.rng.randrange(self.config.workers))
                self.report.kills += 1
                next_kill = self._after(self.config.kill_every)
            self.follow_up(rows)
            if time.monotonic() >= next_expiry:
                idle = self.portal.admin.get("/_mock/knobs").json()["idle_timeout_seconds"]
                self.portal.admin.post("/_mock/clock/advance", json={"seconds": idle + 1}).raise_for_status()
                self.report.session_expiries += 1
                next_expiry = self._after(self.config.session_expiry_every)
            time.sleep(0.25)  # the next look at the tasks; the loop is bounded by `deadline`

    def follow_up(self, rows: Rows) -> None:
        """A round whenever a follow-up waits on the payer (its next check WAITS_ON_PAYER away or
        more), ROUND_GAP_SECONDS after the last while posted tasks still run: the portal's clock
        moves FOLLOW_UP_ADVANCE on (ending every portal session, the running tasks' too: one more
        hazard), and each such follow-up is asked for its check now. A check that crashes or fails
        is retried by the fleet within seconds, with no round; one that finds the payer still
        deciding waits again, and the next round moves the clock on once more. (Rounds used to wait
        for every posted task to be final: the follow-ups' checks then ran alone, after the rest.)"""
        posted_open = any(rows[i].status not in FINAL for i in self.ids if i in rows)
        if posted_open and time.monotonic() - self.last_round < ROUND_GAP_SECONDS:
            return
        later = utcnow() + WAITS_ON_PAYER
        waiting = [
            t
            for t in rows.values()
            if t.parent_task_id is not None
            and t.status == "pending"
            and (as_utc(t.run_after) or later) > later
        ]
        if not waiting:
            return
        self.portal.admin.post("/_mock/clock/advance", json={"seconds": FOLLOW_UP_ADVANCE}).raise_for_status()
        self.last_round = time.monotonic()
        self.report.follow_up_rounds += 1
        self.say(f"follow-up round {self.report.follow_up_rounds}: {len(waiting)} check(s) asked for now")
        for task in waiting:
            # 409: no longer pending since `rows` were read (it is not waiting any more).
            answer = self.api.post(f"/tasks/{task.public_id}/follow-up")
            if answer.status_code not in (200, 409):
                answer.raise_for_status()

    def answer(self, task: Task) -> None:
        """The operator at waiting_for_input. The task data is right, so the only question expected
        is the Beacon payer typeahead's (it can read the list before the portal's slow answer came):
        name the payer again. Anything else, or a task asking over and over, is unexpected."""
        chaos = self.ids.get(task.public_id)
        asked = (task.problems or [{}])[0].get("field")
        self.report.inputs_answered[str(task.notes)[:120]] += 1
        if (
            chaos is None
            or asked != "payer"
            or sum(1 for p in task.problems or [] if p.get("field") != "payer")
        ):
            self.report.reviews_unexpected.append(f"{task.id}: waiting for input: {task.notes}")
            self.api.post(
                f"/tasks/{task.public_id}/cancel", json={"reason": "chaos operator: unexpected question"}
            )
            return
        self.api.post(f"/tasks/{task.public_id}/input", json={"data": f"payer: {PAYER_NAME[chaos.payer]}"})

    def review(self, waiting: list[Task]) -> None:
        """The person at the reconcile gate: approve a resubmission only if the portal has none."""
        found, _ = submissions_by_key(self.portal)
        for task in waiting:
            chaos = self.ids.get(task.public_id)  # None: a follow-up (it submits nothing)
            key = key_of(chaos) if chaos else None
            sent = found.get(key, []) if key else []
            if task.review_step == RECONCILE_GATE and key and not sent:
                decision = "approve"
            else:
                self.report.reviews_unexpected.append(
                    f"{task.id}: gate {task.review_step!r}, {len(sent)} submission(s): {task.notes}"
                )
                decision = "reject"
            answer = self.api.post(
                f"/tasks/{task.public_id}/review", json={"decision": decision, "notes": "chaos reviewer"}
            )
            if answer.status_code == 200 and decision == "approve":
                self.report.reviews_approved += 1
                self.report.approvals[task.public_id] += 1

    def kill_past_submit(self, open_: list[Task]) -> None:
        """Kill the worker holding a task whose submission the portal already has (each task once:
        its next attempt must get as far as submitting again)."""
        held = [
            t
            for t in open_
            if t.status == "running" and t.submit_attempted_at and t.lease_owner and t.id not in self.killed
        ]
        if not held:
            return
        found, _ = submissions_by_key(self.portal)
        for task in held:
            chaos = self.ids.get(task.public_id)
            key = key_of(chaos) if chaos else None
            slot = self.fleet.slot_of(int(str(task.lease_owner).split(":")[1]))
            if key in found and slot is not None:
                self.fleet.kill(slot)
                self.killed.add(task.id)
                self.report.kills += 1
                return


def wait_for_webhooks(engine: sa.Engine, receiver: FlakyReceiver, say: Any) -> None:
    """Until every task (follow-ups included) has an acknowledged webhook and no delivery is pending
    (3 minutes at most: a dispatcher killed mid-send holds its delivery for a minute)."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        ids = set(task_rows(engine))
        acked = set(receiver.task_of.values())
        with session_scope(engine, readonly=True) as session:
            pending = session.exec(
                select(sa.func.count())
                .select_from(WebhookDelivery)
                .where(WebhookDelivery.status == "pending")
            ).one()
        if pending == 0 and acked >= ids:
            return
        time.sleep(0.25)  # bounded by `deadline`
    say("some webhooks were still not acknowledged after 3 minutes")
