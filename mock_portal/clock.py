"""The portal's clock: real UTC time plus an offset knob, so tests can jump minutes or days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self, offset_seconds: Callable[[], float], real: Callable[[], datetime] | None = None):
        self._offset = offset_seconds
        self._real = real or (lambda: datetime.now(UTC))

    def now(self) -> datetime:
        return self._real() + timedelta(seconds=self._offset())

    def real_now(self) -> datetime:
        """Wall-clock time, for TOTP: the user's authenticator does not know about our offset."""
        return self._real()
