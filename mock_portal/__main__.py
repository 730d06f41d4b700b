"""`python -m mock_portal --host 127.0.0.1 --port 8900 [--admin]` (admin also via MOCK_PORTAL_ADMIN=1)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import uvicorn

from mock_portal.app import create_app
from mock_portal.portal import PortalConfig
from mock_portal.seed import DEFAULT_FIXTURES


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="mock_portal", description="Run the mock payer portal.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--admin", action="store_true", help="enable the test-only /_mock/ admin API")
    parser.add_argument("--fixtures", type=Path, default=None, help="seed data directory (fixtures/portal)")
    args = parser.parse_args(argv)
    admin = args.admin or os.environ.get("MOCK_PORTAL_ADMIN", "") in ("1", "true", "yes")
    fixtures = args.fixtures or Path(os.environ.get("MOCK_PORTAL_FIXTURES", "") or DEFAULT_FIXTURES)
    app = create_app(PortalConfig(admin=admin, fixtures_dir=fixtures))
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
