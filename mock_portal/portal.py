"""One running portal: its config, knobs, clock, seeded state, sessions and traffic memory."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from mock_portal.clock import Clock
from mock_portal.drift import Drift
from mock_portal.knobs import Knobs
from mock_portal.payers import DuplicateMode, Payer
from mock_portal.seed import DEFAULT_FIXTURES, load_seed
from mock_portal.sessions import SessionStore
from mock_portal.store import PortalState
from mock_portal.traffic import Traffic


@dataclass(frozen=True)
class PortalConfig:
    admin: bool = False
    fixtures_dir: Path = DEFAULT_FIXTURES


class Portal:
    def __init__(self, config: PortalConfig) -> None:
        self.config = config
        self.knobs = Knobs()
        self.clock = Clock(lambda: self.knobs.clock_offset_seconds)
        self._renders = 0
        self.reset()

    def reset(self) -> None:
        """Back to the seeded fixtures and default knobs; every session ends."""
        self.knobs = Knobs()
        now = self.clock.now()
        self.state = PortalState(load_seed(self.config.fixtures_dir, now), now)
        self.sessions = SessionStore()
        self.traffic = Traffic()

    def duplicate_mode(self, payer: Payer) -> DuplicateMode:
        return self.knobs.duplicate_mode.get(payer.key, payer.duplicate_mode)

    def drift(self) -> Drift:
        """A fresh id/class generator for one page render."""
        self._renders += 1
        return Drift(self.knobs.drift_seed, self._renders)
