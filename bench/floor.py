"""Floor: the same claims as raw HTTP form posts, without a browser, to show what the browser costs.

    .venv/bin/python bench/floor.py [--claims 20] [--latency-ms 300]

Two sides on the same mock portal with the same latency, the portal reset in between: httpx
signing in (password, TOTP) and, per claim, loading the claim form and posting it (what the
browser sends); and the hand-written Playwright script of `bench/overhead.py` doing the same with
a real page. For the whole system's figure on the same claims, see `bench/overhead.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
from pathlib import Path

from claims import claims
from harness import running_portal, show
from minimal import Timings, http_forms, playwright_script


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=20)
    parser.add_argument("--latency-ms", type=int, default=300)
    args = parser.parse_args()
    batch = claims(args.claims)
    with (
        tempfile.TemporaryDirectory(prefix="sopwright-bench-") as work,
        running_portal(Path(work), args.latency_ms) as portal,
    ):
        user = portal.user()
        forms = http_forms(portal.acme, user, batch)
        portal.reset(latency_ms=args.latency_ms)
        browser = asyncio.run(playwright_script(portal.acme, user, batch))
    if forms.claim_numbers != browser.claim_numbers:
        raise RuntimeError("the two sides got different claim numbers: not the same claims")

    def row(label: str, t: Timings) -> tuple[str, ...]:
        return (
            label,
            f"{t.login:.3f}",
            f"{statistics.median(t.per_claim):.3f}",
            f"{max(t.per_claim):.3f}",
            f"{t.total:.2f}",
            f"{t.total / forms.total:.1f}x",
        )

    cost = statistics.median(browser.per_claim) - statistics.median(forms.per_claim)
    show(
        f"Floor: {args.claims} claims, portal latency {args.latency_ms} ms",
        ["side", "login s", "per claim s (median)", "per claim s (max)", "total s", "vs floor"],
        [row("HTTP form posts (httpx, no browser)", forms), row("Playwright script (Chromium)", browser)],
        [
            f"the browser costs {cost:.3f} s per claim over the raw posts (median); "
            "each side makes 2 page requests per claim"
        ],
    )


if __name__ == "__main__":
    main()
