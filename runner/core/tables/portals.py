"""Portal health: one row per portal (the host of its login URL), shared by every worker."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from runner.core.tables.base import created_column, json_column, ts_column


class PortalHealth(SQLModel, table=True):
    """The circuit breaker of one portal (runner/core/breaker.py has the rules).

    `streak` lists the tasks whose attempts the current run of portal-side faults cost (one entry
    per attempt): if the run trips the breaker, those attempts are given back. While the portal is
    down one task at a time probes it: the probe holds the row through its task's lease
    (`probe_task_id` + `probe_token`), like a portal session hold, so a dead probe frees it.
    """

    __tablename__ = "portal_health"

    key: str = Field(primary_key=True, max_length=300)  # host[:port] of the login URL
    state: str = Field(default="up", max_length=16)
    consecutive_faults: int = Field(default=0)
    streak: list[str] = json_column([])
    last_fault: str | None = Field(default=None, max_length=500)
    down_since: datetime | None = ts_column()
    probe_failures: int = Field(default=0)
    next_probe_at: datetime | None = ts_column()
    probe_task_id: str | None = Field(default=None, max_length=36)
    probe_token: int | None = None
    alerted_at: datetime | None = ts_column()
    updated_at: datetime = created_column()
