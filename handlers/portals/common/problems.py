"""Turning what a portal says is wrong into NeedsInput problems named by the task's fields.

Portals name their inputs after the data they hold; the mapping below folds their names
(`diagnosis_B`, `line_2_charge`, `proc_0_units`) into the task's field names (`diagnosis_codes`,
`service_lines`, `procedures`) so a person knows which field of the task to correct.
"""

from __future__ import annotations

from collections.abc import Sequence

from playwright.async_api import FrameLocator, Locator, Page

from handlers.errors import FormRefused, InputProblem

RENAMED = {
    "claim_number": "original_claim_number",
    "payer_name": "payer",
    "payer_id": "payer",
    "documents": "files",
    "attachments": "files",
}
PREFIXES = (("diagnosis_", "diagnosis_codes"), ("line_", "service_lines"), ("proc_", "procedures"))


def task_field(portal_name: str, default: str) -> str:
    if not portal_name:
        return default
    if portal_name in RENAMED:
        return RENAMED[portal_name]
    for prefix, field in PREFIXES:
        if portal_name.startswith(prefix):
            return field
    return portal_name


async def summary_problems(
    summary: Locator, root: Page | FrameLocator, *, default_field: str
) -> list[InputProblem]:
    """One problem per entry of a form's error summary (links point at the invalid inputs)."""
    problems: list[InputProblem] = []
    for link in await summary.get_by_role("link").all():
        message = " ".join((await link.inner_text()).split())
        target = (await link.get_attribute("href") or "").lstrip("#")
        name = ""
        if target:
            # Ids are generated per render (`:r2b:`), so the link's target is found by the exact
            # id it names; a CSS attribute selector copes with the colons.
            control = root.locator(f'[id="{target}"]')
            if await control.count():
                name = await control.first.get_attribute("name") or ""
        problems.append(InputProblem(task_field(name, default_field), message))
    return problems


def needs_input(portal: str, problems: Sequence[InputProblem]) -> FormRefused:
    """The portal showed the form again with its errors: nothing was taken."""
    listed = "; ".join(p.message for p in problems) or "the form was refused"
    return FormRefused(f"{portal} refused the form: {listed}", problems=list(problems))


def file_problems(messages: Sequence[str]) -> list[InputProblem]:
    return [InputProblem("files", message) for message in messages]
