"""Traces and page HTML are redacted of the login's secrets when kept; artifacts are readable by
their owner only and served as what they are."""

from __future__ import annotations

import html
import json
import stat
import zipfile
from pathlib import Path
from urllib.parse import quote_plus

from runner.core.artifacts import (
    REDACTED,
    ArtifactStore,
    media_type,
    redact_bytes,
    redact_zip,
    write_private,
)

PASSWORD = 'Pa$$ w0rd&"x"/é'
TOTP = "JBSWY3DPEHPK3PXP"


def test_a_trace_loses_every_form_of_the_secrets(tmp_path: Path) -> None:
    trace = tmp_path / "trace.zip"
    with zipfile.ZipFile(trace, "w") as z:
        z.writestr("trace.trace", json.dumps({"method": "fill", "params": {"value": PASSWORD}}))
        z.writestr("trace.network", f"username=biller&password={quote_plus(PASSWORD)}&totp={TOTP}")
        z.writestr("resources/page.html", f"<input value='{PASSWORD}'> member SYN100001")
        z.writestr("resources/shot.jpeg", b"\xff\xd8\xff binary")
    assert redact_zip(trace, [PASSWORD, TOTP, ""]) == 4
    with zipfile.ZipFile(trace) as z:
        assert z.namelist() == ["trace.trace", "trace.network", "resources/page.html", "resources/shot.jpeg"]
        contents = {name: z.read(name) for name in z.namelist()}
    everything = b"".join(contents.values())
    assert PASSWORD.encode() not in everything and TOTP.encode() not in everything
    assert quote_plus(PASSWORD).encode() not in everything
    assert contents["trace.network"] == b"username=biller&password=" + REDACTED + b"&totp=" + REDACTED
    assert b"member SYN100001" in contents["resources/page.html"]  # the rest is kept
    assert contents["resources/shot.jpeg"] == b"\xff\xd8\xff binary"
    assert stat.S_IMODE(trace.stat().st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["trace.zip"]  # no temporary left behind


def test_artifact_folders_are_the_owners_only(tmp_path: Path) -> None:
    folder = ArtifactStore(tmp_path / "artifacts").dir_for("account", "task", "trajectory")
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_page_html_loses_the_secrets_also_html_escaped(tmp_path: Path) -> None:
    page = (
        f'<input name="password" value="{html.escape(PASSWORD)}">'
        f"<a href='/verify?secret={quote_plus(PASSWORD)}'>{TOTP}</a> member SYN100001"
    )
    data, replaced = redact_bytes(page.encode(), [PASSWORD, TOTP])
    assert replaced == 3
    assert html.escape(PASSWORD).encode() not in data and TOTP.encode() not in data
    assert b"member SYN100001" in data
    path = tmp_path / "02-fill.html"
    write_private(path, data)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_artifacts_are_served_as_what_they_are() -> None:
    assert media_type(Path("01-open.jpg")) == "image/jpeg"
    assert media_type(Path("04-capture.png")) == "image/png"
    assert media_type(Path("02-fill.html")) == "text/html; charset=utf-8"
    assert media_type(Path("trace.zip")) == "application/zip"
