from pathlib import Path

import pytest

from runner.core.crypto import DecryptionFailed, SecretBox
from runner.core.errors import ConfigError


def box() -> SecretBox:
    return SecretBox.from_setting(SecretBox.generate_key())


def test_round_trip() -> None:
    b = box()
    sealed = b.seal("hunter2", purpose="portal_password", account_id="a1", record_id="c1")
    assert "hunter2" not in sealed
    assert b.open(sealed, purpose="portal_password", account_id="a1", record_id="c1") == "hunter2"


def test_ciphertext_moved_to_another_row_does_not_open() -> None:
    b = box()
    sealed = b.seal("hunter2", purpose="portal_password", account_id="a1", record_id="c1")
    for purpose, account, record in [
        ("portal_password", "a2", "c1"),
        ("portal_password", "a1", "c2"),
        ("totp_secret", "a1", "c1"),
    ]:
        with pytest.raises(DecryptionFailed):
            b.open(sealed, purpose=purpose, account_id=account, record_id=record)


def test_other_key_or_tampering_fails() -> None:
    sealed = box().seal("x", purpose="p", account_id="a", record_id="r")
    with pytest.raises(DecryptionFailed):
        box().open(sealed, purpose="p", account_id="a", record_id="r")
    b = box()
    sealed = b.seal("x", purpose="p", account_id="a", record_id="r")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(DecryptionFailed):
        b.open(tampered, purpose="p", account_id="a", record_id="r")


def test_key_file_is_generated_once_with_private_mode(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = SecretBox.load(None, tmp_path)
    assert "SOPWRIGHT_SECRET_KEY is not set" in caplog.text
    key_file = tmp_path / "secret.key"
    assert key_file.stat().st_mode & 0o777 == 0o600
    sealed = first.seal("v", purpose="p", account_id="a", record_id="r")
    assert SecretBox.load(None, tmp_path).open(sealed, purpose="p", account_id="a", record_id="r") == "v"


def test_bad_key_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        SecretBox.from_setting("not base64 !!")
    with pytest.raises(ConfigError, match="32 bytes"):
        SecretBox.from_setting("c2hvcnQ=")
