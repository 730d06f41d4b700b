"""The engine's rules on a scripted portal and a fake page, without a browser or a database:
review gates, the point of no return, reconciliation (found, absent, cannot tell, approved),
polling, and what it leaves in the result."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import pytest
from pypdf import PdfReader

from handlers.context import Credentials, Outcome, StepContext
from handlers.engine import RECONCILE_GATE, GateReached, NotListedYet, Pacing, Resume, run_sop
from handlers.errors import NeedsInput, Transient
from handlers.fake import Action, FakePage, FakePortal, Pending
from handlers.registry import PortalHandler, UnknownStep
from sops.loader import SopLibrary
from sops.schema import Sop, Step
from sops.types import TaskType
from tests.support.threaded import run_async

LIBRARY = SopLibrary.builtin()
CLAIM = LIBRARY.get(TaskType.SUBMIT_CLAIM)
AUTH = LIBRARY.get(TaskType.SUBMIT_PRIOR_AUTHORIZATION)


@dataclass
class Journal:
    """Hooks that write down what the engine announced, in order."""

    lines: list[str] = field(default_factory=list)

    async def step_started(self, position: int, step: Step) -> None:
        self.lines.append(f"start {step.id}")

    async def step_finished(self, position: int, step: Step, *, outcome: str, message: str | None) -> None:
        self.lines.append(f"{outcome} {step.id}")

    async def before_irreversible(self, step: Step) -> None:
        self.lines.append(f"mark {step.id}")


@dataclass
class Run:
    portal: FakePortal
    page: FakePage
    ctx: StepContext
    journal: Journal
    sleeps: list[float]


def run(
    sop: Sop,
    portal: FakePortal,
    *,
    fields: Mapping[str, object] | None = None,
    resume: Resume = Resume(),
    result: dict[str, object] | None = None,
) -> tuple[Run, Outcome | BaseException]:
    page = FakePage()
    ctx = StepContext(
        page=page.as_page(),
        task_type=sop.type,
        fields=fields if fields is not None else {"total_charge": 100},
        credentials=Credentials("biller", "Canary-Pass-4417!"),
        portal_url="http://portal.invalid/fake",
        result=dict(result or {}),
    )
    journal, sleeps = Journal(), []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    handler = portal.handler(sorted({s.do for s in sop.steps}))

    async def main() -> Outcome | BaseException:
        try:
            return await run_sop(sop, handler, ctx, journal, resume=resume, pacing=Pacing(0.5, sleep))
        except Exception as exc:
            return exc

    return Run(portal, page, ctx, journal, sleeps), run_async(main)


def script(**actions: Sequence[Action]) -> FakePortal:
    return FakePortal(script=actions)


def test_steps_run_in_order_on_the_page_and_the_last_completes() -> None:
    ran, outcome = run(CLAIM, script(capture_claim_number=[{"claim_number": "FK1"}]))
    assert outcome is Outcome.COMPLETED
    assert ran.ctx.result == {"claim_number": "FK1"}
    ids = [s.id for s in CLAIM.steps]
    submit = next(s.id for s in CLAIM.steps if s.irreversible)
    expected = [
        line for i in ids for line in ([f"mark {i}"] if i == submit else []) + [f"start {i}", f"ok {i}"]
    ]
    assert ran.journal.lines == expected
    assert [html.split("<p>")[1].split("</p>")[0] for _, html in ran.page.history] == [
        f"step {s.do}" for s in CLAIM.steps
    ]


def test_a_business_outcome_stops_the_remaining_steps() -> None:
    ran, outcome = run(CLAIM, script(fill_claim=[Outcome.FAILED]))
    assert outcome is Outcome.FAILED
    assert ran.portal.calls["submit_claim"] == 0 and ran.journal.lines[-1] == "ok fill"


def test_a_step_error_is_raised_for_the_runner_after_its_step_is_recorded() -> None:
    wrong = NeedsInput("The payer says the member id is wrong.")
    ran, outcome = run(CLAIM, script(fill_claim=[wrong]))
    assert outcome is wrong
    assert ran.journal.lines[-1] == "NeedsInput fill"
    assert ran.portal.calls["submit_claim"] == 0


def test_an_unexpected_error_is_recorded_by_its_type_only() -> None:
    ran, outcome = run(CLAIM, script(open_claim_form=[Transient("HTTP 503")]))
    assert isinstance(outcome, Transient) and ran.journal.lines[-1] == "Transient open_form"


def test_a_review_gate_stops_before_its_step_until_approved() -> None:
    large = {"total_charge": 6000}
    ran, outcome = run(CLAIM, FakePortal(), fields=large)
    assert isinstance(outcome, GateReached) and outcome.gate == "submit"
    assert ran.portal.calls["submit_claim"] == 0 and "mark submit" not in ran.journal.lines
    approved, outcome = run(
        CLAIM, FakePortal(), fields=large, resume=Resume(approved_gates=frozenset({"submit"}))
    )
    assert outcome is Outcome.COMPLETED and approved.portal.calls["submit_claim"] == 1


def test_a_gate_whose_condition_is_false_does_not_stop() -> None:
    _, outcome = run(CLAIM, FakePortal(), fields={"total_charge": 10})
    assert outcome is Outcome.COMPLETED


def test_the_point_of_no_return_is_announced_before_the_irreversible_step_runs() -> None:
    ran, _ = run(CLAIM, FakePortal())
    mark = ran.journal.lines.index("mark submit")
    assert ran.journal.lines[mark + 1] == "start submit"
    assert "mark" not in " ".join(ran.journal.lines[:mark])


def test_a_task_past_the_mark_is_reconciled_not_submitted_again() -> None:
    portal = FakePortal(reconcile_with={"claim_number": "FK42"})
    ran, outcome = run(CLAIM, portal, resume=Resume(submit_attempted=True))
    assert outcome is Outcome.COMPLETED and ran.ctx.result == {"claim_number": "FK42"}
    assert portal.calls["submit_claim"] == 0 and portal.calls["reconcile"] == 1
    assert portal.calls["login"] == 1  # a session step runs again
    assert portal.calls["fill_claim"] == 0 and "skipped fill" in ran.journal.lines
    assert "reconciled submit" in ran.journal.lines and not [
        x for x in ran.journal.lines if x.startswith("mark")
    ]
    assert portal.calls["capture_claim_number"] == 1  # the steps after the submit run as usual


@pytest.mark.parametrize(
    ("found", "why"),
    [(False, "the portal shows no such submission"), (None, "this portal cannot look submissions up")],
)
def test_an_unresolved_reconciliation_goes_to_a_person(found: bool | None, why: str) -> None:
    portal = FakePortal(reconcile_with=found)
    ran, outcome = run(CLAIM, portal, resume=Resume(submit_attempted=True))
    assert isinstance(outcome, GateReached) and outcome.gate == RECONCILE_GATE
    assert why in outcome.message
    assert portal.calls["submit_claim"] == 0 and ran.journal.lines[-1] == "unreconciled submit"


def test_within_the_listing_wait_not_found_is_not_listed_yet_and_looked_for_again() -> None:
    portal = FakePortal(reconcile_with=False)
    ran, outcome = run(CLAIM, portal, resume=Resume(submit_attempted=True, listing_wait=1800))
    assert isinstance(outcome, NotListedYet) and outcome.retry_after == 1800
    assert "looking for it again in 30 minutes" in outcome.message
    assert portal.calls["submit_claim"] == 0 and ran.journal.lines[-1] == "not_listed_yet submit"


@pytest.mark.parametrize(
    ("resume", "expected"),
    [
        # A portal that cannot look it up will not list it later either: a person at once.
        (Resume(submit_attempted=True, listing_wait=1800), GateReached),
        # A person who already looked and approved is not made to wait.
        (
            Resume(submit_attempted=True, listing_wait=1800, approved_gates=frozenset({RECONCILE_GATE})),
            Outcome.COMPLETED,
        ),
    ],
)
def test_the_listing_wait_is_only_for_a_search_that_found_nothing(resume: Resume, expected: object) -> None:
    found = None if not resume.approved_gates else False
    _ran, outcome = run(CLAIM, FakePortal(reconcile_with=found), resume=resume)
    assert outcome is expected or isinstance(outcome, expected)  # type: ignore[arg-type]


def test_an_approved_reconciliation_resubmits_once_after_the_form_again() -> None:
    portal = FakePortal(reconcile_with=False)
    approved = Resume(submit_attempted=True, approved_gates=frozenset({RECONCILE_GATE}))
    ran, outcome = run(CLAIM, portal, resume=approved)
    assert outcome is Outcome.COMPLETED
    assert portal.calls["reconcile"] == 1  # it still looks first
    assert portal.calls["fill_claim"] == 1 and portal.calls["submit_claim"] == 1
    after = ran.journal.lines[ran.journal.lines.index("resubmitting submit") + 1 :]
    assert after[:6] == [
        "start open_form",
        "ok open_form",
        "start fill",
        "ok fill",
        "mark submit",
        "start submit",
    ]


def test_a_polled_step_repeats_while_pending_at_the_scaled_pace() -> None:
    poll = next(s for s in AUTH.steps if s.poll is not None)
    assert poll.poll is not None
    decided: Action = {"decision": "approved"}
    ran, outcome = run(AUTH, script(**{poll.do: [Pending({"decision": "pended"}), decided]}))
    assert outcome is Outcome.COMPLETED and ran.ctx.result["decision"] == "approved"
    assert ran.portal.calls[poll.do] == 2
    assert ran.sleeps == [poll.poll.every_seconds * 0.5]


def test_the_decision_gets_a_short_first_look_not_a_long_wait() -> None:
    """A payer that decides at once is reported at once; one that pends is left to the SOP's
    follow-up, which holds no browser between its checks (issue 13)."""
    poll = next(s for s in AUTH.steps if s.poll is not None)
    assert poll.poll is not None
    assert poll.poll.every_seconds * (poll.poll.max_polls - 1) <= 30
    assert AUTH.follow_up is not None and AUTH.follow_up.when == {"decision": ["pended"]}


def test_still_pending_at_the_last_poll_completes_with_issues() -> None:
    poll = next(s for s in AUTH.steps if s.poll is not None)
    assert poll.poll is not None
    ran, outcome = run(AUTH, script(**{poll.do: [Pending({"decision": "pended"})]}))
    assert outcome is Outcome.COMPLETED_WITH_ISSUES
    assert ran.portal.calls[poll.do] == poll.poll.max_polls
    assert len(ran.sleeps) == poll.poll.max_polls - 1


def test_a_steps_notes_and_a_document_it_could_not_keep_are_its_message() -> None:
    """A document a step could not keep (here: no sink, as in a replay) is noted on the step, which
    still succeeds; notes made during one step are that step's only."""
    poll = next(s for s in AUTH.steps if s.poll is not None)
    portal = script(**{poll.do: [Pending({"decision": "pended"})]})
    handler = portal.handler(sorted({s.do for s in AUTH.steps}))
    capture = next(s.do for s in AUTH.steps if s.id == "capture")

    async def capture_and_print(ctx: StepContext) -> None:
        ctx.note("Read the case page.")
        assert await ctx.documents.save_page_pdf(ctx.page) is None

    scripts = {**handler.scripts, capture: capture_and_print}
    messages: list[tuple[str, str | None]] = []

    class Messages(Journal):
        async def step_finished(
            self, position: int, step: Step, *, outcome: str, message: str | None
        ) -> None:
            messages.append((step.id, message))

    page = FakePage()
    ctx = StepContext(
        page=page.as_page(),
        task_type=AUTH.type,
        fields={},
        credentials=Credentials("biller", "Canary-Pass-4417!"),
        portal_url="http://portal.invalid/fake",
    )

    async def main() -> Outcome:
        async def sleep(seconds: float) -> None:
            return None

        fake = replace(handler, scripts=scripts)
        return await run_sop(AUTH, fake, ctx, Messages(), pacing=Pacing(0, sleep))

    assert run_async(main) is Outcome.COMPLETED_WITH_ISSUES
    said = dict(messages)
    assert said["capture"] == (
        "Read the case page. The confirmation could not be printed and kept: documents are not kept "
        "in this run."
    )
    assert said[poll.id] == "Still pending at the last poll."
    assert said["submit"] is None


def test_fake_page_prints_a_pdf_of_its_text_or_fails_as_told() -> None:
    async def main() -> tuple[bytes, bytes]:
        page = FakePage()
        await page.set_content("<h1>Claim submitted</h1><p>Claim number <b>FK1</b> &amp; more</p>")
        printed, again = await page.pdf(), await page.pdf()
        page.pdf_error = RuntimeError("Printing failed")
        with pytest.raises(RuntimeError, match="Printing failed"):
            await page.pdf()
        return printed, again

    printed, again = run_async(main)
    assert printed.startswith(b"%PDF-") and printed == again
    assert PdfReader(io.BytesIO(printed)).pages[0].extract_text() == "Claim submitted Claim number FK1 & more"


def test_a_step_the_portal_lacks_is_named() -> None:
    handler = FakePortal().handler(["login"])
    assert isinstance(handler, PortalHandler)
    with pytest.raises(UnknownStep, match="no step script 'fill_claim'"):
        handler.script("fill_claim")


def test_fake_page_screenshots_are_images_that_carry_the_page() -> None:
    async def main() -> tuple[bytes, bytes, bool]:
        page = FakePage()
        await page.goto("http://portal.invalid/fake/claims")
        await page.set_content("<p>Claim FK1 accepted</p>")
        assert await page.content() == "<p>Claim FK1 accepted</p>"
        full = await page.screenshot(full_page=True, type="png")
        viewport = await page.screenshot(type="jpeg", quality=60)
        await page.close()
        return full, viewport, page.is_closed()

    full, viewport, closed = run_async(main)
    assert (
        full.startswith(b"\x89PNG\r\n\x1a\n")
        and viewport.startswith(b"\xff\xd8")
        and viewport.endswith(b"\xff\xd9")
    )
    assert b"Claim FK1 accepted" in viewport and b"http://portal.invalid/fake/claims" in viewport
    assert closed


def test_a_closed_fake_page_refuses_work() -> None:
    async def main() -> None:
        page = FakePage()
        await page.close()
        await page.content()

    with pytest.raises(Exception, match="has been closed"):
        run_async(main)


def test_the_fake_login_types_the_credentials_into_its_page() -> None:
    ran, _ = run(CLAIM, FakePortal())
    login_html = ran.page.history[0][1]
    assert 'value="Canary-Pass-4417!"' in login_html and 'value="biller"' in login_html
