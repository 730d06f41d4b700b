"""Finding and launching a Chromium for Playwright.

Order: an explicit path (setting), else Playwright's bundled Chromium when it is installed,
else the system Chromium (Debian's `chromium`). The launch flags keep a headless Chromium
quiet on machines without network access.

A remote browser server (`playwright run-server`) launches its own browser from options the
client sends; it honours `executablePath` and `args` only when started with `--unsafe`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SYSTEM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

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


def find_chromium(explicit: str | None = None) -> str | None:
    """Return an executable path to launch, or None to let Playwright use its bundled browser."""
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
    for name in SYSTEM_CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserNotFound(
        "No Chromium found. Install one (`apt-get install chromium` or `playwright install "
        "chromium`) or set SOPWRIGHT_BROWSER_PATH to a Chromium executable."
    )


def launch_options(
    explicit: str | None = None, *, headless: bool = True, slow_mo: float = 0
) -> dict[str, object]:
    """Keyword arguments for `playwright.chromium.launch(...)`."""
    options: dict[str, object] = {"headless": headless, "args": list(LAUNCH_ARGS)}
    executable = find_chromium(explicit)
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
