"""Fixtures for the sops unit tests."""

from __future__ import annotations

import pytest

from sops.loader import SopLibrary


@pytest.fixture(scope="session")
def library() -> SopLibrary:
    return SopLibrary.builtin()
