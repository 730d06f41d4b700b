"""Finding and launching a Chromium for Playwright.

Order: an explicit path (setting), else Playwright's bundled Chromium when it is installed
(Playwright itself then launches its headless shell for headless runs), else, headless, the
system's Chromium headless shell (Debian's `chromium-headless-shell`), else the system Chromium
(Debian's `chromium`). The headless shell is the old headless mode, a build without the browser
UI: with 8 contexts open it takes about half the memory of full Chromium's headless mode (one
renderer per context instead of about two, a browser process of 50 MB instead of 150;
bench/chromium_memory.py). The launch flags keep a headless Chromium quiet on machines without
network access.

A remote browser server (`playwright run-server`) launches its own browser from options the
client sends; it honours `executablePath` and `args` only when started with `--unsafe`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
# Headless only. Debian's /usr/bin/chromium-headless-shell is a shell script that does not exec
# the binary (the script would stay the browser's parent), so the binary comes first.
HEADLESS_SHELL_CANDIDATES = (
    "/usr/lib/chromium/chromium-headless-shell",
    "chromium-headless-shell",
    "headless_shell",
)

LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


class BrowserNotFound(RuntimeError):
    """No Chromium could be found; the message says how to install or configure one."""


def _bundled_chromium() -> Path | None:
    root = os.environ.get("PLAYWRIGHT_BROWSERS_PATH") or str(Path.home() / ".cache" / "ms-playwright")
    base = Path(root)
    if not base.is_dir():
        return None
    for pattern in ("chromium-*/chrome-linux*/chrome", "chromium_headless_shell-*/chrome-*/headless_shell"):
        for candidate in sorted(base.glob(pattern), reverse=True):
            if os.access(candidate, os.X_OK):
                return candidate
    return None


def find_chromium(explicit: str | None = None, *, headless: bool = False) -> str | None:
    """Return an executable path to launch, or None to let Playwright use its bundled browser;
    `headless`: a headless shell will do (and is preferred)."""
    if explicit:
        path = Path(explicit)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise BrowserNotFound(
                f"The configured browser {explicit!r} is not an executable file; "
                "fix SOPWRIGHT_BROWSER_PATH or unset it to find one automatically."
            )
        return str(path)
    if _bundled_chromium() is not None:
        return None
    for name in (HEADLESS_SHELL_CANDIDATES if headless else ()) + SYSTEM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserNotFound(
        "No Chromium found. Install one (`apt-get install chromium chromium-headless-shell` or "
        "`playwright install chromium`) or set SOPWRIGHT_BROWSER_PATH to a Chromium executable."
    )


def launch_options(
    explicit: str | None = None, *, headless: bool = True, slow_mo: float = 0
) -> dict[str, object]:
    """Keyword arguments for `playwright.chromium.launch(...)`."""
    options: dict[str, object] = {"headless": headless, "args": list(LAUNCH_ARGS)}
    executable = find_chromium(explicit, headless=headless)
    if executable is not None:
        options["executable_path"] = executable
    if slow_mo:
        options["slow_mo"] = slow_mo
    return options


def server_launch_options(explicit: str | None = None, *, headless: bool = True) -> dict[str, object]:
    """Launch options for a browser server (the JSON of the `x-playwright-launch-options` header).

    The path is one on the server's machine, so it is sent as given, not checked here; without
    one the server uses its own Playwright Chromium (`playwright install chromium` there).
    """
    options: dict[str, object] = {"headless": headless, "args": list(LAUNCH_ARGS)}
    if explicit:
        options["executablePath"] = explicit
    return options
