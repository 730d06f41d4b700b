"""Settings, read once at the edge (CLI, API start-up) and passed in.

Every setting is an environment variable with the `SOPWRIGHT_` prefix. The data dir defaults to
`$XDG_DATA_HOME/sopwright` (usually `~/.local/share/sopwright`) so that every command, whatever
its working directory, uses the same database, files and key.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from runner.core.artifacts import ScreenshotMode
from runner.core.breaker import BreakerRules
from runner.core.private import private_dir
from runner.core.tracing import DEFAULT_TRACE_MODE, TraceMode


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "sopwright"


class LogFormat(StrEnum):
    TEXT = "text"
    JSON = "json"


# The longest listing delay a portal is allowed (seconds): the fleet's setting and a login's own.
MAX_LISTING_DELAY = 7 * 24 * 3600


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOPWRIGHT_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir, description="Database, files, artifacts, key.")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file `sopwright.db` in the data dir."
    )
    secret_key: str | None = Field(
        default=None,
        description="Base64 32-byte key for encryption at rest; generated into the data dir if unset.",
    )
    max_file_bytes: int = Field(default=25 * 1024 * 1024, description="Largest accepted upload, per file.")
    max_files: int = Field(default=10, description="Most files per task.")
    max_total_bytes: int = Field(default=100 * 1024 * 1024, description="Largest total upload per request.")
    max_data_chars: int = Field(default=64 * 1024, description="Longest accepted `data` text.")
    batch_max_rows: int = Field(
        default=10_000, ge=1, description="Most rows in one batch (a CSV or JSON list)."
    )
    batch_max_bytes: int = Field(
        default=20 * 1024 * 1024, ge=1024, description="Largest batch file (CSV) or JSON batch body."
    )
    timely_filing_days: int = Field(default=365, description="Default claim timely-filing window.")
    log_level: str = Field(default="INFO", description="Python log level.")
    log_format: LogFormat = Field(default=LogFormat.TEXT, description="`text` or `json` logs.")
    browser_path: str | None = Field(
        default=None,
        description="Chromium to launch (sent to browser servers; they honour it with `--unsafe`).",
    )
    browser_ws_endpoint: str = Field(
        default="",
        description="Comma-separated Playwright browser servers (`ws://host:port/`, from `playwright "
        "run-server`) the workers connect to instead of launching Chromium.",
    )
    browser_max_contexts: int = Field(
        default=8, ge=1, description="Browser contexts (tasks) a worker opens at once on one browser server."
    )
    warm_context_seconds: float = Field(
        default=60,
        ge=0,
        description="A task that ended well leaves its browser context (signed in, cache warm) to the "
        "next task of the same account and portal login for this long; 0 gives every task a new one.",
    )
    worker_concurrency: int = Field(default=4, ge=1, le=64, description="Tasks a worker runs at once.")
    lease_seconds: float = Field(default=60, gt=1, description="Task lease; heartbeats renew it every third.")
    reap_interval: float = Field(
        default=15, gt=0, description="Seconds between expired-lease sweeps (recovery bound: lease + this)."
    )
    grace_seconds: float = Field(
        default=30, ge=0, description="On SIGTERM, running tasks get this long to finish before release."
    )
    reconcile: bool = Field(
        default=True,
        description="Reconcile before resubmitting a task that crashed past its submit. Only turned off "
        "by the chaos test's negative control: off can submit twice.",
    )
    listing_delay: float = Field(
        default=0,
        ge=0,
        le=MAX_LISTING_DELAY,
        description="Seconds a portal may take to list a new submission in its search. A task that "
        "crashed past its submit and whose submission the portal does not list is looked for again "
        "until this long after the submit, its attempt not counted, before a person is asked "
        "(who would see the same empty search). Default 0: asked at once. A portal login's own "
        "delay (`sopwright portals add --listing-delay`) comes first.",
    )
    metrics_port: int | None = Field(
        default=None, description="`sopwright worker` serves Prometheus metrics on this port."
    )
    trace: TraceMode = Field(
        default=DEFAULT_TRACE_MODE,
        description="Playwright traces: `on-all-retries` (default: none on a first attempt, one on "
        "every retry), `on-first-retry` (the second attempt only), `on-failure` (every attempt "
        "recorded, kept when it failed), `always`, `off`. Kept traces are redacted of portal secrets.",
    )
    screenshots: ScreenshotMode = Field(
        default=ScreenshotMode.STEPS,
        description="Which steps get a screenshot: `steps` (default: every step, a viewport JPEG; the "
        "failing and the last step the full page), `final` (the failing and the last step only: about "
        "a fifth less CPU per task), `off` (none; a failing step still keeps its page HTML).",
    )
    screenshot_budget_bytes: int = Field(
        default=2_000_000,
        ge=0,
        description="Bytes of screenshots one attempt may keep; past it, steps get none (their "
        "trajectory row says so).",
    )
    poll_scale: float = Field(
        default=1.0, ge=0, description="Multiplies SOP poll intervals (below 1 for the mock portal)."
    )
    artifact_retention_days: float = Field(
        default=30, gt=0, description="Screenshots and traces kept this long."
    )
    production: bool = Field(
        default=False, description="Production mode: webhook URLs must use https (more checks may follow)."
    )
    allow_hosts: str = Field(
        default="",
        description="Comma-separated hosts or CIDR networks that webhooks and the browser (portal "
        "logins, every request of a task's pages) may reach although internal (e.g. `127.0.0.1` "
        "for the mock portal, the tests and the demo). Empty: only public addresses.",
    )
    webhook_allow_hosts: str = Field(
        default="", description="The former name of `allow_hosts`, still read: its entries are added."
    )
    api_key_cache_seconds: float = Field(
        default=2.0,
        ge=0,
        le=60,
        description="Seconds an API key that passed its check is taken again without reading the "
        "database (a third of a create's CPU under concurrent requests). A key revoked by another "
        "process (`sopwright keys revoke`, another API process) works here for up to this long; "
        "revoked through this process (the console), it stops at once. 0 checks every request.",
    )
    webhook_timeout: float = Field(default=15.0, gt=0, description="Seconds before a webhook POST gives up.")
    breaker_threshold: int = Field(
        default=5,
        ge=0,
        description="Portal-side faults in a row (maintenance, 5xx, timeouts), across tasks, that mark a "
        "portal down: its tasks then wait without spending attempts. 0 turns the breaker off.",
    )
    breaker_backoff_seconds: float = Field(
        default=30,
        gt=0,
        description="A down portal is first checked again after this; doubles per failed check.",
    )
    breaker_max_backoff_seconds: float = Field(
        default=600, gt=0, description="The longest wait between two checks of a down portal."
    )
    portal_down_webhook_after: float = Field(
        default=1800,
        ge=0,
        description="Seconds a portal stays down before the `portal_down` webhook (opt-in) is sent.",
    )

    def breaker_rules(self) -> BreakerRules:
        return BreakerRules(
            threshold=self.breaker_threshold,
            backoff_seconds=self.breaker_backoff_seconds,
            max_backoff_seconds=max(self.breaker_max_backoff_seconds, self.breaker_backoff_seconds),
            alert_after_seconds=self.portal_down_webhook_after,
        )

    def allowed_hosts(self) -> str:
        """The allow list of the destination policy: `allow_hosts` and its former name, together."""
        return ",".join(entry for entry in (self.allow_hosts, self.webhook_allow_hosts) if entry)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'sopwright.db'}"

    def ensure_data_dir(self) -> Path:
        return private_dir(self.data_dir)
