"""Traces are redacted of the login's secrets when kept; artifacts are readable by their owner only."""

from __future__ import annotations

import json
import stat
import zipfile
from pathlib import Path
from urllib.parse import quote_plus

from runner.core.artifacts import REDACTED, ArtifactStore, redact_zip

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
