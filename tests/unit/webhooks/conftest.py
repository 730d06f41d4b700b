"""Webhook fixtures: the core wired with loopback allowed, a fake clock, a real receiver, tasks."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from webhook_clinic import Clinic

from runner.core.crypto import SecretBox
from runner.core.settings import Settings
from runner.core.system import System
from runner.core.webhooks.clock import FakeClock
from runner.core.webhooks.dispatcher import Dispatcher
from runner.core.webhooks.receiver import Receiver
from runner.core.webhooks.schedule import RetrySchedule
from runner.core.webhooks.service import Webhooks


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key=SecretBox.generate_key(),
        allow_hosts="127.0.0.1",
        webhook_timeout=15.0,  # a loaded machine answers slowly; the timeout tests set their own
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hooks(system: System, clock: FakeClock) -> Webhooks:
    """The webhook services on the fake clock, with a seeded jitter."""
    return Webhooks(
        system.engine,
        system.accounts,
        system.webhooks.guard,
        timeout=15.0,
        clock=clock,
        schedule=RetrySchedule(rng=random.Random(5)),
    )


@pytest.fixture
def dispatcher(hooks: Webhooks) -> Dispatcher:
    return hooks.dispatcher(name="test")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver().running() as running:
        yield running


@pytest.fixture
def clinic(system: System, receiver: Receiver, clock: FakeClock) -> Clinic:
    return Clinic(system, "Clinic A", receiver.url, clock)
