"""The portal's "are you still there?" modal, answered "stay signed in" by a script in the page.

Portals show the modal after a stretch without page loads (a long form, a slow upload); answering
it sends the portal's keep-alive request, so the session survives a step that takes long. A script
installed once per browser context (an init script for every later document, and run once in the
documents already open, every frame of them) watches the DOM with a MutationObserver for the
modal becoming visible, and clicks its button a moment later: ANSWER_AFTER_MS, as a person would,
so that a modal the portal takes back by itself needs no answer, and a step, a trace or a test
waiting for the modal sees it. Each answer is reported to Python through a context binding and
logged ("idle warning answered: stayed signed in"). A warm context serves several tasks of one
login: it keeps its init script and binding, so the next task installs nothing.

No Playwright locator handler remains, not even as a fallback: Playwright checks a handler's
locator before every action (about 30 per claim, 0.13-0.22 s of Chromium CPU and 0.05 s of driver
CPU; bench/README.md), and a fallback handler would cost that check in the normal case just the
same. The fallback is on demand instead: the page script finds the button by its CSS selector,
else by its name; when the modal is still up RETRY_AFTER_MS after its click (a portal that ignores
a click a script makes, checking `event.isTrusted`), Python clicks the button as Playwright does
(real input events) and the script tries again later. A modal whose button the script cannot find
is logged as a warning; a modal no longer matched by its selector goes unseen. Either way the
session then ends and the step meets the sign-in page, which is already handled (sign in again,
or retry the attempt).
"""

from __future__ import annotations

import contextlib
import json
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from playwright.async_api import BrowserContext, Frame, Page
from playwright.async_api import Error as PlaywrightError

log = logging.getLogger("sopwright.steps")

BINDING = "__sopwrightIdleModal"
ANSWERED = "idle warning answered: stayed signed in"
ANSWER_AFTER_MS = 2_000  # the modal shown this long is answered (portals count down a minute or more)
RETRY_AFTER_MS = 10_000  # still shown this long after a click: clicked as a person, then tried again
TRUSTED_CLICK_TIMEOUT_MS = 5_000


@dataclass(frozen=True)
class IdleModal:
    """Where a portal's idle modal is, as the page script finds it: CSS selectors (the page has no
    Playwright locators). `stay` is looked for inside the modal; when it matches nothing, a button
    whose text is `stay_name`."""

    modal: str
    stay: str
    stay_name: str


# Runs in every frame of every document (guarded: once per document and modal). Reports through
# the context's binding: "answered" after a click, "still-shown" when the modal is still up
# RETRY_AFTER_MS after it, "no-button" (once per showing) when the shown modal has no button to
# click; it looks again while the modal stays up. The observer reacts only
# to the attributes that show or hide things and to added or removed nodes; no timer runs until
# the modal shows.
SCRIPT = """(spec) => {
  const key = Symbol.for("sopwright.idle-modal " + spec.modal);
  if (window[key]) return;
  window[key] = true;
  let timer = 0, answered = false, missing = false;
  const report = (what) => {
    const binding = window[spec.binding];
    if (typeof binding !== "function") return;
    Promise.resolve(binding(what, spec.modal, spec.stayName)).catch(() => {});
  };
  // The hidden attribute first: no style to compute on the (usual) mutation with the modal hidden.
  const shown = (modal) => !!modal && modal.isConnected && !modal.hidden
    && modal.checkVisibility({ checkVisibilityCSS: true, visibilityProperty: true });
  const button = (modal) => {
    const found = modal.querySelector(spec.stay);
    if (found) return found;
    for (const candidate of modal.querySelectorAll("button, [role=button]")) {
      if (candidate.textContent.replace(/\\s+/g, " ").trim() === spec.stayName) return candidate;
    }
    return null;
  };
  const answer = () => {
    timer = 0;
    const modal = document.querySelector(spec.modal);
    if (!shown(modal)) return;
    const stay = button(modal);
    if (!stay) {
      if (!missing) report("no-button");
      missing = true;
      return;
    }
    answered = true;
    stay.click();
    report("answered");
    timer = setTimeout(() => {
      timer = 0;
      answered = false;
      if (shown(document.querySelector(spec.modal))) report("still-shown");
      check();
    }, spec.retryAfterMs);
  };
  const check = () => {
    if (shown(document.querySelector(spec.modal))) {
      if (!answered && !timer) timer = setTimeout(answer, spec.answerAfterMs);
      return;
    }
    answered = missing = false;
    if (timer) clearTimeout(timer);
    timer = 0;
  };
  new MutationObserver(check).observe(document, {
    subtree: true, childList: true, attributes: true,
    attributeFilter: ["hidden", "class", "style", "open", "aria-hidden"],
  });
  check();
}"""

_installed: weakref.WeakKeyDictionary[BrowserContext, set[IdleModal]] = weakref.WeakKeyDictionary()


async def answer_idle_modal(page: Page, modal: IdleModal) -> None:
    """Have the page's context answer `modal` from now on (once per context; later calls return)."""
    context = page.context
    known = _installed.get(context)
    if known is None:
        known = set()
        _installed[context] = known
        await context.expose_binding(BINDING, _reported)
    if modal in known:
        return
    known.add(modal)
    spec = {
        "modal": modal.modal,
        "stay": modal.stay,
        "stayName": modal.stay_name,
        "binding": BINDING,
        "answerAfterMs": ANSWER_AFTER_MS,
        "retryAfterMs": RETRY_AFTER_MS,
    }
    await context.add_init_script(script=f"({SCRIPT})({json.dumps(spec)});")
    for open_page in context.pages:
        for frame in open_page.frames:
            with contextlib.suppress(PlaywrightError):  # a frame navigating away gets the init script
                await frame.evaluate(SCRIPT, spec)


async def _reported(source: dict[str, Any], what: str, modal: str, stay_name: str) -> None:
    if what == "answered":
        log.info(ANSWERED)
    elif what == "still-shown":
        log.warning("idle warning still shown after stay-signed-in was clicked; clicking it as a person")
        frame: Frame = source["frame"]
        stay = frame.locator(modal).get_by_role("button", name=stay_name)
        try:
            await stay.click(timeout=TRUSTED_CLICK_TIMEOUT_MS)
        except PlaywrightError:
            return  # gone meanwhile, or the frame navigated away
        log.info(ANSWERED)
    else:
        log.warning("idle warning shown with no stay-signed-in button to click; the session may end")
