"""Switches for every hazard and timing of the portal, read and set through the admin API."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from mock_portal.payers import DuplicateMode

CaptchaMode = Literal["off", "suspicious", "always"]
ErrorScope = Literal["all", "pages"]


class Knobs(BaseModel):
    """All knobs with their defaults; `reset` restores these."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # Faults and load
    latency_ms: int = Field(0, ge=0, le=30_000)
    latency_jitter_ms: int = Field(0, ge=0, le=30_000)  # plus a random 0..this per request
    error_rate: float = Field(0.0, ge=0.0, le=1.0)
    error_seed: int = 0
    error_scope: ErrorScope = "all"  # "pages": only page loads fail, never the pages' own fetch() calls
    maintenance: bool = False
    rate_limit_per_minute: int = Field(0, ge=0)  # 0 = no limit
    captcha: CaptchaMode = "off"
    # Sessions
    idle_timeout_seconds: int = Field(900, ge=1)
    idle_warning_seconds: int = Field(60, ge=0)
    session_lifetime_seconds: int = Field(8 * 3600, ge=1)
    lockout_threshold: int = Field(5, ge=0)  # 0 = never lock
    security_ack_days: int = Field(14, ge=0)  # 0 = never ask (Beacon)
    # Time
    clock_offset_seconds: float = 0.0
    # Page markup
    drift_seed: int | None = None  # ids and class names change per render when set
    masked_date_input: bool = True  # Acme eligibility DOB ignores paste-style fills
    banners: bool = True
    # Document links open the PDF in a new tab (served inline), as many portals' do, instead of
    # downloading it
    documents_in_new_tab: bool = False
    # Outcomes
    duplicate_mode: dict[str, DuplicateMode] = Field(default_factory=dict)  # payer key -> mode
    pended_polls: int = Field(2, ge=0)  # lookups before a pended auth is decided
    pended_minutes: int = Field(30, ge=0)  # or minutes of portal clock, whichever first
    claim_stage_polls: int = Field(1, ge=0)  # status lookups per claim stage
    claim_stage_minutes: int = Field(60, ge=0)
    # Status searches leave out records younger than this (0: found at once; the reconcilers wait
    # for a listing only within the login's listing delay)
    claim_index_delay_minutes: int = Field(0, ge=0)
    auth_index_delay_minutes: int = Field(0, ge=0)  # searches by member only
    # Uploads
    upload_max_files: int = Field(10, ge=1)
    upload_max_file_bytes: int = Field(60 * 1024 * 1024, ge=1)
    upload_max_total_bytes: int = Field(150 * 1024 * 1024, ge=1)
    upload_extensions: list[str] = Field(
        default_factory=lambda: ["pdf", "jpg", "jpeg", "png", "tif", "tiff", "doc", "docx", "txt"]
    )


def apply_patch(current: Knobs, patch: dict[str, Any]) -> Knobs:
    """A new Knobs with `patch` applied; raises pydantic.ValidationError on unknown or bad values."""
    merged = current.model_dump()
    for key, value in patch.items():
        if key == "duplicate_mode" and isinstance(value, dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return Knobs.model_validate(merged)
