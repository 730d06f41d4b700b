"""A scripted portal and a page without a browser, for testing the engine and the runner without a
payer portal or Chromium (first-class, with their own tests).

`FakePortal`: each step script name maps to a list of actions, consumed one per call (the last
repeats): an action is a StepError to raise, an `Outcome` to finish with, a dict to merge into the
result, `Pending` (a polled step: the payer has not decided yet), or None to do nothing. Every call
renders a small page so screenshots have something to show (`login` types the login's username
and password into its page, as a real sign-in does: traces and page HTML must not keep them),
and is counted in `calls`.

`FakePage`: what the engine, the runner's recorder and these step scripts use of a Playwright
page (content, url, screenshot, pdf, closed), and nothing more: a real portal's step script fails on it
at once, since it has no locators.
"""

from __future__ import annotations

import html
import re
import struct
import zlib
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from fpdf import FPDF

from handlers.context import StepContext
from handlers.errors import StepError
from handlers.registry import PortalHandler, Reconciler, StepScript
from sops.types import Outcome, TaskType

if TYPE_CHECKING:
    from playwright.async_api import Page


@dataclass(frozen=True)
class Pending:
    """A polled step's answer while the payer has not decided yet (with what it read so far)."""

    result: Mapping[str, Any] = field(default_factory=dict)


Action = StepError | Outcome | dict[str, Any] | Pending | None


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
            typed = ""
            if name == "login":
                login = ctx.credentials
                typed = (
                    f'<input name="username" value="{html.escape(login.username)}">'
                    f'<input name="password" type="password" value="{html.escape(login.password)}">'
                )
            await ctx.page.set_content(
                f"<h1>{html.escape(self.name)}</h1><p>step {html.escape(name)}</p>{typed}{filler}"
            )
            actions = self.script.get(name, [None])
            action = actions[min(index, len(actions) - 1)]
            if isinstance(action, StepError):
                raise action
            if isinstance(action, Outcome):
                ctx.finish(action)
            elif isinstance(action, Pending):
                ctx.result.update(action.result)
                ctx.still_pending = True
            elif isinstance(action, dict):
                ctx.result.update(action)

        return run

    async def _reconcile(self, ctx: StepContext) -> bool | None:
        self.calls["reconcile"] += 1
        if isinstance(self.reconcile_with, dict):
            ctx.result.update(self.reconcile_with)
            return True
        return False if self.reconcile_with is False else None


PRINTED_AT = datetime(2026, 1, 1, tzinfo=UTC)


class PageClosed(Exception):
    """The fake page was used after it was closed (Playwright raises its own error there)."""


class FakePage:
    """A page without a browser: its HTML, its URL, screenshots of what it shows, and whether it is
    closed. It is also its own (only) frame, as the recorder reads every frame's HTML.

    `history` keeps every (url, html) it showed, in order: a fake trace records it.
    """

    name = ""  # the main frame's name

    def __init__(self, url: str = "about:blank") -> None:
        self.url = url
        self.history: list[tuple[str, str]] = []
        self.screenshots = 0
        self.pdf_error: Exception | None = None
        self._html = ""
        self._closed = False

    def as_page(self) -> Page:
        """This page where the engine and the runner expect a Playwright `Page` (see the module
        docstring for what it has)."""
        return cast("Page", self)

    @property
    def frames(self) -> list[FakePage]:
        return [self]

    async def goto(self, url: str, **_: Any) -> None:
        self._check()
        self.url = url
        self._show("")

    async def set_content(self, html: str, **_: Any) -> None:
        self._check()
        self._show(html)

    async def content(self) -> str:
        self._check()
        return self._html

    async def screenshot(
        self, *, full_page: bool = False, type: str = "png", quality: int | None = None, timeout: float = 0
    ) -> bytes:
        """A real (1x1) PNG or JPEG that carries the page's HTML in a comment: a test can read
        what the page showed, and a longer page makes a larger screenshot."""
        self._check()
        self.screenshots += 1
        text = f"{'full' if full_page else 'viewport'} {self.url}\n{self._html}".encode()
        return png(text) if type == "png" else jpeg(text)

    async def pdf(self, **_: Any) -> bytes:
        """The page printed: a real one-page PDF of the page's text (tags dropped), so that a
        test can read what was kept with pypdf. `pdf_error` set: raised instead (a print that
        fails)."""
        self._check()
        if self.pdf_error is not None:
            raise self.pdf_error
        document = FPDF(format="Letter")
        document.set_creation_date(PRINTED_AT)  # the same page prints the same bytes
        document.add_page()
        document.set_font("helvetica", size=10)
        text = " ".join(re.sub(r"<[^>]+>", " ", html.unescape(self._html)).split())
        document.multi_cell(0, 5, text.encode("latin-1", "replace").decode("latin-1") or " ")
        return bytes(document.output())

    def is_closed(self) -> bool:
        return self._closed

    async def close(self, **_: Any) -> None:
        self._closed = True

    def _show(self, html: str) -> None:
        self._html = html
        self.history.append((self.url, html))

    def _check(self) -> None:
        if self._closed:
            raise PageClosed("Target page, context or browser has been closed")


def png(comment: bytes) -> bytes:
    """A 1x1 grey PNG with `comment` in a zTXt chunk."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit greyscale
    return b"".join(
        [
            b"\x89PNG\r\n\x1a\n",
            chunk(b"IHDR", header),
            chunk(b"zTXt", b"Comment\x00\x00" + zlib.compress(comment)),
            chunk(b"IDAT", zlib.compress(b"\x00\x80")),
            chunk(b"IEND", b""),
        ]
    )


def jpeg(comment: bytes) -> bytes:
    """A 1x1 grey baseline JPEG with `comment` in COM segments (one 8x8 block, DC 0, no AC)."""

    def segment(marker: int, data: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data

    comments = [comment[i : i + 65_000] for i in range(0, len(comment), 65_000)] or [b""]
    return b"".join(
        [
            b"\xff\xd8",
            *(segment(0xFE, part) for part in comments),
            segment(0xDB, b"\x00" + b"\x01" * 64),  # quantisation table 0: all ones
            segment(0xC0, b"\x08\x00\x01\x00\x01\x01\x01\x11\x00"),  # 1x1, one component
            # Huffman tables: DC 0 and AC 0, each with one code of one bit (DC category 0; EOB).
            segment(0xC4, b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"),
            segment(0xC4, b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00"),
            segment(0xDA, b"\x01\x01\x00\x00\x3f\x00"),
            b"\x3f",  # DC category 0 ('0'), EOB ('0'), padded with ones
            b"\xff\xd9",
        ]
    )
