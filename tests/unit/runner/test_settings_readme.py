"""The README lists every setting the settings module reads (in its settings table, or a former
name beside its successor's row), and its table lists nothing else."""

from __future__ import annotations

import re
from pathlib import Path

from runner.core.settings import Settings

README = (Path(__file__).resolve().parents[3] / "README.md").read_text(encoding="utf-8")


def test_the_readme_lists_every_setting() -> None:
    prefix = Settings.model_config.get("env_prefix", "")
    assert prefix == "SOPWRIGHT_"
    read = {prefix + name.upper() for name in Settings.model_fields}
    named = set(re.findall(r"`(SOPWRIGHT_[A-Z0-9_]+)`", README))
    assert sorted(read - named) == [], "add a row to the README's settings table"
    rows = set(re.findall(r"^\| `(SOPWRIGHT_[A-Z0-9_]+)` \|", README, re.M))
    assert sorted(rows - read) == [], "the README's settings table names a setting that is not read"
