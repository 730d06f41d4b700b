"""Chromium flags and memory: N browser contexts on the Acme claim form, under each set of launch flags.

    .venv/bin/python bench/chromium_memory.py [--contexts 8] [--rounds 2] [--sets current,in-process-gpu]
        [--latency-ms 0]

One mock portal; per flag set (every set in the same run, `--rounds` times, the sets interleaved so
that a change in the machine's load hits them alike): launch Chromium with the flags, then open N
contexts one after another, each with a signed-in session (storage state from one sign-in by form
posts, as a worker restores a saved session), load the claim form and take one full-page
screenshot; then fill and submit one claim in each context (the claim flow) and take a second
full-page screenshot of the confirmation. Memory: PSS (shared pages split) of Playwright's node
driver and every descendant (Chromium's browser, renderers, GPU, utility and zygote processes),
at launch ("idle"), with 1 context, with N contexts on the form, after the N claims, and the peak
(sampled every 0.25 s). "MB per extra context" is (PSS at N - PSS at 1) / (N - 1). Times: opening a
context and loading the form, the screenshot, and the claim flow (fill, submit, confirmation),
medians per context.

A flag set adds arguments to `handlers.browser.LAUNCH_ARGS` (or drops some), on full Chromium (its
headless mode) or on the headless shell (`chromium-headless-shell`, what `handlers.browser` picks
for headless runs when it is installed). Chromium keeps only the
last `--disable-features=` switch it is given, and Playwright passes its own list, so a set's
disabled features are sent merged with Playwright's (read from a first launch).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from claims import claims
from harness import (
    Portal,
    driver_process,
    kind_of,
    machine,
    page_loads,
    pss_by_kind,
    pss_mb,
    running_portal,
    show,
    signed_in_state,
)
from minimal import fill_and_submit
from playwright.async_api import Playwright, async_playwright

from handlers.browser import HEADLESS_SHELL_CANDIDATES, LAUNCH_ARGS, find_chromium, launch_options

# Playwright's own --blink-settings for headless pages (pointer and hover types); a second
# --blink-settings switch would replace them, so a set that changes blink settings repeats them.
PLAYWRIGHT_BLINK = "primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4"


@dataclass(frozen=True)
class FlagSet:
    name: str
    add: tuple[str, ...] = ()
    drop: tuple[str, ...] = ()
    disable_features: tuple[str, ...] = ()  # sent merged with Playwright's own list
    shell: bool = False  # the headless shell; else full Chromium (its new headless mode)
    note: str = ""

    def args(self, playwright_disabled: list[str]) -> list[str]:
        args = [a for a in LAUNCH_ARGS if a not in self.drop] + list(self.add)
        if self.disable_features:
            merged = playwright_disabled + [f for f in self.disable_features if f not in playwright_disabled]
            args.append("--disable-features=" + ",".join(merged))
        return args


SITE_ISOLATION_OFF = ("site-per-process", "IsolateOrigins")
FEATURES_OFF = (
    "Translate",
    "BackForwardCache",
    "MediaRouter",
    "OptimizationHints",
    "InterestFeedContentSuggestions",
    "CertificateTransparencyComponentUpdater",
    "AutofillServerCommunication",
    "DialMediaRouteProvider",
    "GlobalMediaControls",
    "Prerender2",
    "SpareRendererForSitePerProcess",
)

FLAG_SETS = [
    FlagSet("current", note="full Chromium, handlers.browser.LAUNCH_ARGS as they are"),
    FlagSet("gpu-on", drop=("--disable-gpu",), note="without --disable-gpu"),
    FlagSet(
        "no-gpu-raster",
        add=("--disable-gpu-compositing", "--disable-software-rasterizer"),
        note="+ --disable-gpu-compositing --disable-software-rasterizer",
    ),
    FlagSet("in-process-gpu", add=("--in-process-gpu",), note="+ --in-process-gpu (no GPU process)"),
    FlagSet("renderer-limit-2", add=("--renderer-process-limit=2",), note="+ --renderer-process-limit=2"),
    FlagSet("process-per-site", add=("--process-per-site",), note="+ --process-per-site"),
    FlagSet(
        "site-isolation-off",
        add=("--disable-site-isolation-trials",),
        disable_features=SITE_ISOLATION_OFF,
        note="+ --disable-site-isolation-trials, features site-per-process,IsolateOrigins off",
    ),
    FlagSet("features-off", disable_features=FEATURES_OFF, note="+ features off: " + ",".join(FEATURES_OFF)),
    FlagSet(
        "js-lite",
        add=("--js-flags=--lite-mode --max-old-space-size=256",),
        note="+ --js-flags=--lite-mode --max-old-space-size=256 (V8 without optimizing JIT)",
    ),
    FlagSet(
        "images-off",
        add=(f"--blink-settings={PLAYWRIGHT_BLINK},imagesEnabled=false",),
        note="+ blink imagesEnabled=false (the mock portal has no images: expect no change)",
    ),
    FlagSet(
        "headless-shell",
        shell=True,
        note="the old headless shell (Debian chromium-headless-shell), same flags",
    ),
    FlagSet(
        "shell+in-process-gpu",
        add=("--in-process-gpu",),
        shell=True,
        note="the headless shell + --in-process-gpu",
    ),
    FlagSet(
        "shell+no-gpu-raster",
        add=("--disable-gpu-compositing", "--disable-software-rasterizer"),
        shell=True,
        note="the headless shell + --disable-gpu-compositing --disable-software-rasterizer",
    ),
    FlagSet(
        "shell+features-off",
        disable_features=FEATURES_OFF,
        shell=True,
        note="the headless shell + the features of features-off disabled",
    ),
    FlagSet(
        "shell+low-end",
        add=("--enable-low-end-device-mode",),
        shell=True,
        note="the headless shell + --enable-low-end-device-mode (smaller caches and tile budgets)",
    ),
    FlagSet(
        "shell+v8-small",
        add=("--js-flags=--optimize-for-size --max-semi-space-size=1",),
        shell=True,
        note="the headless shell + --js-flags=--optimize-for-size --max-semi-space-size=1 (V8's young "
        "generation at 1 MB)",
    ),
    FlagSet(
        "combined",
        add=("--in-process-gpu", "--disable-site-isolation-trials", "--renderer-process-limit=2"),
        disable_features=(*SITE_ISOLATION_OFF, *FEATURES_OFF),
        note="in-process-gpu + site-isolation-off + renderer-limit-2 + features-off",
    ),
]


@dataclass
class Result:
    flags: FlagSet
    round: int
    idle: float = 0.0
    at_one: float = 0.0
    at_n: float = 0.0
    after_claims: float = 0.0
    peak: float = 0.0
    kinds: dict[str, tuple[int, float]] = field(default_factory=dict)
    open_s: list[float] = field(default_factory=list)
    shot_s: list[float] = field(default_factory=list)
    claim_s: list[float] = field(default_factory=list)
    shot_kb: list[float] = field(default_factory=list)
    page_loads: int = 0
    load: str = ""
    error: str = ""


class PeakPss:
    """The peak PSS of a process tree, sampled in a thread while the block runs."""

    def __init__(self, root: psutil.Process, every: float = 0.25) -> None:
        self.root, self.every, self.peak = root, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> PeakPss:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, pss_mb(self.root))


async def playwright_disabled_features(pw: Playwright) -> list[str]:
    """The `--disable-features=` list Playwright launches Chromium with (read from the process)."""
    browser = await pw.chromium.launch(**launch_options())  # type: ignore[arg-type]
    try:
        for proc in driver_process().children(recursive=True):
            if kind_of(proc) == "browser":
                for arg in proc.cmdline():
                    if arg.startswith("--disable-features="):
                        return arg.split("=", 1)[1].split(",")
    finally:
        await browser.close()
    raise RuntimeError("could not read Playwright's --disable-features list")


def executable_of(flags: FlagSet) -> str | None:
    """The headless shell, or full Chromium (None: Playwright's bundled browser)."""
    if not flags.shell:
        return find_chromium(headless=False)
    found = next(filter(None, map(shutil.which, HEADLESS_SHELL_CANDIDATES)), None)
    if found is None:
        raise FileNotFoundError("no Chromium headless shell (apt-get install chromium-headless-shell)")
    return found


async def measure(
    pw: Playwright,
    flags: FlagSet,
    round_: int,
    portal: Portal,
    n: int,
    first_claim: int,
    playwright_disabled: list[str],
    settle: float,
) -> Result:
    result = Result(flags, round_)
    options = launch_options()
    options["args"] = flags.args(playwright_disabled)
    executable = executable_of(flags)
    options.pop("executable_path", None)
    if executable is not None:
        options["executable_path"] = executable
    state = signed_in_state(portal)
    loads_before = page_loads(portal)
    browser = await pw.chromium.launch(**options)  # type: ignore[arg-type]
    try:
        root = driver_process()
        await asyncio.sleep(settle)  # start-up work (component loaders, the GPU process) settles
        result.idle = pss_mb(root)
        pages = []
        with PeakPss(root) as peak:
            for i in range(n):
                start = time.perf_counter()
                context = await browser.new_context(
                    storage_state=state,  # type: ignore[arg-type]
                    viewport={"width": 1280, "height": 900},
                )
                page = await context.new_page()
                await page.goto(f"{portal.acme}/claims/new")
                await page.get_by_role("heading", name="Submit a professional claim").wait_for()
                result.open_s.append(time.perf_counter() - start)
                start = time.perf_counter()
                image = await page.screenshot(full_page=True)
                result.shot_s.append(time.perf_counter() - start)
                result.shot_kb.append(len(image) / 1000)
                pages.append(page)
                if i == 0:
                    await asyncio.sleep(settle)
                    result.at_one = pss_mb(root)
            await asyncio.sleep(settle)
            result.kinds = pss_by_kind(root)
            result.at_n = sum(mb for _, mb in result.kinds.values())
            for page, claim in zip(pages, claims(n, first=first_claim), strict=True):
                start = time.perf_counter()
                number = await fill_and_submit(page, claim)
                result.claim_s.append(time.perf_counter() - start)
                if not number.strip():
                    raise RuntimeError("a claim got no claim number")
                await page.screenshot(full_page=True)
            await asyncio.sleep(settle)
            result.after_claims = pss_mb(root)
        result.peak = max(peak.peak, result.at_n, result.after_claims)
    finally:
        await browser.close()
    result.page_loads = page_loads(portal) - loads_before
    return result


async def run(args: argparse.Namespace, portal: Portal) -> list[Result]:
    chosen = [s for s in FLAG_SETS if not args.sets or s.name in args.sets.split(",")]
    if not chosen:
        raise SystemExit(f"no such flag set; choose from {', '.join(s.name for s in FLAG_SETS)}")
    results = []
    async with async_playwright() as pw:
        playwright_disabled = await playwright_disabled_features(pw)
        claim_no = 0
        for round_ in range(1, args.rounds + 1):
            for flags in chosen:
                portal.reset(latency_ms=args.latency_ms)
                load = f"{os.getloadavg()[0]:.1f}"
                try:
                    result = await measure(
                        pw, flags, round_, portal, args.contexts, claim_no, playwright_disabled, args.settle
                    )
                except (FileNotFoundError, RuntimeError) as exc:
                    result = Result(flags, round_, error=str(exc)[:100])
                except Exception as exc:  # a flag that breaks Chromium is a result, not a crash
                    result = Result(flags, round_, error=f"{type(exc).__name__}: {str(exc)[:100]}")
                result.load = load
                claim_no += args.contexts
                results.append(result)
                print(
                    f"round {round_} {flags.name}: "
                    + (result.error or f"{result.at_n:.0f} MB at {args.contexts}, load {load}"),
                    flush=True,
                )
    return results


def _kind(result: Result, *names: str) -> str:
    count = sum(result.kinds.get(k, (0, 0.0))[0] for k in names)
    mb = sum(result.kinds.get(k, (0, 0.0))[1] for k in names)
    return f"{count}/{mb:.0f}" if count else "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--contexts", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2, help="times each flag set is measured")
    parser.add_argument("--sets", default="", help="comma-separated flag set names (default: all)")
    parser.add_argument("--latency-ms", type=int, default=0)
    parser.add_argument("--settle", type=float, default=1.0, help="seconds before each PSS reading")
    args = parser.parse_args()
    n = args.contexts
    start_load = machine()
    work = Path(tempfile.mkdtemp(prefix="sopwright-bench-"))
    try:
        with running_portal(work, args.latency_ms) as portal:
            results = asyncio.run(run(args, portal))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for r in results:
        if r.error:
            rows.append((r.flags.name, r.round, "error: " + r.error, *([""] * 13)))
            continue
        rows.append(
            (
                r.flags.name,
                r.round,
                f"{r.idle:.0f}",
                f"{r.at_one:.0f}",
                f"{r.at_n:.0f}",
                f"{(r.at_n - r.at_one) / max(1, n - 1):.1f}",
                f"{r.after_claims:.0f}",
                f"{r.peak:.0f}",
                _kind(r, "renderer"),
                _kind(r, "gpu-process"),
                _kind(r, "browser"),
                _kind(r, "utility", "zygote"),
                f"{statistics.median(r.open_s):.2f}",
                f"{statistics.median(r.shot_s):.2f}",
                f"{statistics.median(r.claim_s):.2f}",
                r.load,
            )
        )
    show(
        f"Chromium flags and memory: {n} contexts on the Acme claim form, latency {args.latency_ms} ms",
        [
            "flags",
            "#",
            "idle",
            "1 ctx",
            f"{n} ctx",
            "per extra ctx",
            "after claims",
            "peak",
            "renderers",
            "GPU",
            "browser",
            "utility, zygote",
            "open s",
            "shot s",
            "claim s",
            "load",
        ],
        rows,
        [
            *(f"{s.name}: {s.note}" for s in FLAG_SETS if any(r.flags is s for r in results)),
            "MB of PSS of Playwright's node driver and every descendant; renderers .. utility: "
            f"processes/MB at {n} contexts on the form; times: medians per context; load: 1-minute "
            "load average at the start of the set",
            f"page loads per set (portal count): {sorted({r.page_loads for r in results if not r.error})}",
            f"at start: {start_load}",
        ],
    )


if __name__ == "__main__":
    main()
