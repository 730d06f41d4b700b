"""Sign-in checks: password with lockout, TOTP codes, and the periodic security acknowledgement."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import pyotp

from mock_portal.models import User


class PasswordCheck(StrEnum):
    OK = "ok"
    BAD = "bad"
    LOCKED = "locked"


def check_password(user: User | None, password: str, lockout_threshold: int) -> PasswordCheck:
    """Count failures per user; at `lockout_threshold` failures the account locks (0 = never)."""
    if user is None:
        return PasswordCheck.BAD
    if user.locked:
        return PasswordCheck.LOCKED
    if password == user.password:
        user.failed_logins = 0
        return PasswordCheck.OK
    user.failed_logins += 1
    if lockout_threshold and user.failed_logins >= lockout_threshold:
        user.locked = True
        return PasswordCheck.LOCKED
    return PasswordCheck.BAD


def check_totp(user: User, code: str, real_now: datetime) -> bool:
    """A 6-digit, 30-second TOTP code, one step of drift allowed; checked against wall-clock time."""
    code = code.strip().replace(" ", "")
    if not (len(code) == 6 and code.isdigit()):
        return False
    return pyotp.TOTP(user.totp_secret).verify(code, for_time=real_now, valid_window=1)


def needs_acknowledgement(user: User, now: datetime, every_days: int) -> bool:
    if every_days <= 0:
        return False
    return user.last_ack_at is None or now - user.last_ack_at >= timedelta(days=every_days)
