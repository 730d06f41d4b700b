"""Sign-in, sessions, drift, uploads, traffic and knobs: the machinery behind the hazards."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from mock_portal import __main__ as cli
from mock_portal.credentials import PasswordCheck, check_password, check_totp, needs_acknowledgement
from mock_portal.drift import Drift
from mock_portal.knobs import Knobs, apply_patch
from mock_portal.models import User
from mock_portal.payers import DuplicateMode
from mock_portal.portal import Portal
from mock_portal.sessions import EndReason, SessionStore
from mock_portal.traffic import Traffic
from mock_portal.uploads import check_documents
from tests.unit.mock_portal.portal_samples import NOW

SECRET = "3HE7LNZQF6FUU7UDAKHBLTPCVV7JJFCB"


def user() -> User:
    return User("acme", "u", "right", SECRET, "U")


def test_lockout_after_five_bad_passwords() -> None:
    person = user()
    results = [check_password(person, "wrong", 5) for _ in range(5)]
    assert results == [PasswordCheck.BAD] * 4 + [PasswordCheck.LOCKED]
    assert check_password(person, "right", 5) is PasswordCheck.LOCKED


def test_lockout_can_be_switched_off_and_success_resets_count() -> None:
    person = user()
    assert all(check_password(person, "wrong", 0) is PasswordCheck.BAD for _ in range(8))
    assert check_password(person, "right", 0) is PasswordCheck.OK and person.failed_logins == 0


def test_totp_uses_wall_clock_and_allows_one_step() -> None:
    totp = pyotp.TOTP(SECRET)
    assert check_totp(user(), totp.at(NOW), NOW)
    assert check_totp(user(), totp.at(NOW - timedelta(seconds=30)), NOW)
    assert not check_totp(user(), totp.at(NOW - timedelta(minutes=5)), NOW)
    assert not check_totp(user(), "12345", NOW)


def test_security_acknowledgement_every_n_days() -> None:
    person = user()
    assert needs_acknowledgement(person, NOW, 14)
    person.last_ack_at = NOW
    assert not needs_acknowledgement(person, NOW + timedelta(days=13), 14)
    assert needs_acknowledgement(person, NOW + timedelta(days=14), 14)
    assert not needs_acknowledgement(person, NOW + timedelta(days=400), 0)


def test_sessions_end_on_idle_and_lifetime() -> None:
    store = SessionStore()
    session = store.create("acme", "u", NOW)
    assert (
        store.expired(session, NOW + timedelta(seconds=899), idle_seconds=900, lifetime_seconds=3600) is None
    )
    assert (
        store.expired(session, NOW + timedelta(seconds=901), idle_seconds=900, lifetime_seconds=3600)
        is EndReason.IDLE
    )
    assert store.get(session.sid, "acme") is None
    other = store.create("acme", "u", NOW)
    other.last_seen = NOW + timedelta(seconds=3500)
    assert (
        store.expired(other, NOW + timedelta(seconds=3601), idle_seconds=900, lifetime_seconds=3600)
        is EndReason.LIFETIME
    )


def test_sessions_are_per_payer() -> None:
    store = SessionStore()
    session = store.create("acme", "u", NOW)
    assert store.get(session.sid, "beacon") is None and store.get(session.sid, "acme") is session


def test_drift_off_gives_stable_readable_ids() -> None:
    assert Drift(None, 1).id("member_id") == Drift(None, 2).id("member_id") == "member-id"
    assert Drift(None, 1).cls("card") == "card"


def test_drift_on_changes_ids_and_classes_per_render_but_not_within_one() -> None:
    first, second = Drift(7, 1), Drift(7, 2)
    assert first.id("member_id") == first.id("member_id")
    assert first.id("member_id") != second.id("member_id")
    assert re.fullmatch(r":r[0-9a-f]+:", first.id("member_id"))
    assert first.cls("card").startswith("card-") and first.cls("card") != second.cls("card")


PDF = b"%PDF-1.4 synthetic"


def test_uploads_accept_good_files_and_refuse_each_bad_one_with_a_reason() -> None:
    knobs = Knobs(upload_max_files=3, upload_max_file_bytes=100, upload_max_total_bytes=150)
    files = [
        ("a.pdf", PDF, "application/pdf"),
        ("virus.exe", b"MZ", "application/octet-stream"),
        ("big.pdf", PDF + b"x" * 200, "application/pdf"),
        ("fake.pdf", b"not a pdf", "application/pdf"),
        ("empty.txt", b"", "text/plain"),
        ("b.txt", b"y" * 90, "text/plain"),
        ("c.txt", b"z" * 80, "text/plain"),
    ]
    accepted, errors = check_documents(files, knobs)
    assert [d.name for d in accepted] == ["a.pdf", "b.txt"]
    assert [e.split(":")[0] for e in errors] == ["virus.exe", "big.pdf", "fake.pdf", "empty.txt", "c.txt"]
    assert "not accepted" in errors[0] and "larger than" in errors[1] and "in total" in errors[4]


def test_upload_count_limit_counts_files_already_attached() -> None:
    knobs = Knobs(upload_max_files=2)
    accepted, errors = check_documents([("a.pdf", PDF, ""), ("b.pdf", PDF, "")], knobs, already=1)
    assert len(accepted) == 1 and errors == ["b.pdf: you can attach at most 2 files."]


def test_rate_limit_window_slides() -> None:
    traffic = Traffic()
    assert not any(traffic.over_limit("c", NOW, 3) for _ in range(3))
    assert traffic.over_limit("c", NOW, 3)
    assert not traffic.over_limit("c", NOW + timedelta(seconds=61), 3)
    assert not traffic.over_limit("other", NOW, 3)


def test_injected_failures_follow_rate_and_seed() -> None:
    runs = [[Traffic().injected_failure(0.5, 1) for _ in range(1)] for _ in range(2)]
    assert runs[0] == runs[1]
    traffic = Traffic()
    draws = [traffic.injected_failure(0.3, 42) for _ in range(1000)]
    assert 200 < sum(draws) < 400
    assert not any(Traffic().injected_failure(0.0, 1) for _ in range(10))


def test_captcha_after_suspicious_signals_until_solved() -> None:
    traffic = Traffic()
    assert not traffic.needs_captcha("c", "suspicious")
    traffic.login_failed("c")
    traffic.login_failed("c")
    assert traffic.needs_captcha("c", "suspicious") and not traffic.needs_captcha("c", "off")
    traffic.captcha_passed("c")
    assert not traffic.needs_captcha("c", "suspicious")


def test_captcha_always_asks_before_each_sign_in() -> None:
    traffic = Traffic()
    assert traffic.needs_captcha("c", "always")
    traffic.captcha_passed("c")
    assert not traffic.needs_captcha("c", "always")
    traffic.signed_in("c")
    assert traffic.needs_captcha("c", "always")


def test_knob_patches_validate_and_merge_duplicate_modes() -> None:
    knobs = apply_patch(Knobs(), {"duplicate_mode": {"acme": "silent"}, "latency_ms": 5})
    knobs = apply_patch(knobs, {"duplicate_mode": {"beacon": "block"}})
    assert knobs.duplicate_mode == {"acme": DuplicateMode.SILENT, "beacon": DuplicateMode.BLOCK}
    assert knobs.latency_ms == 5
    with pytest.raises(ValidationError):
        apply_patch(knobs, {"no_such_knob": 1})
    with pytest.raises(ValidationError):
        apply_patch(knobs, {"error_rate": 2})


def test_reset_restores_seed_and_default_knobs(portal: Portal) -> None:
    portal.knobs = apply_patch(portal.knobs, {"maintenance": True})
    portal.state.user("acme", "acme.biller").locked = True  # type: ignore[union-attr]
    portal.sessions.create("acme", "acme.biller", NOW)
    portal.reset()
    assert portal.knobs == Knobs()
    assert not portal.state.user("acme", "acme.biller").locked  # type: ignore[union-attr]
    assert portal.sessions.active_count() == 0 and portal.state.submissions == []


def test_clock_offset_moves_portal_time_but_not_wall_time(portal: Portal) -> None:
    before = portal.clock.now()
    portal.knobs = apply_patch(portal.knobs, {"clock_offset_seconds": 86_400})
    assert portal.clock.now() - before >= timedelta(days=1)
    assert portal.clock.real_now() - before < timedelta(hours=1)


def test_command_line_runs_uvicorn_with_admin_from_flag_or_env(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, object]] = []
    monkeypatch.setattr(cli.uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    monkeypatch.delenv("MOCK_PORTAL_ADMIN", raising=False)
    cli.main(["--port", "8911"])
    monkeypatch.setenv("MOCK_PORTAL_ADMIN", "1")
    cli.main(["--host", "0.0.0.0"])
    assert [(c["host"], c["port"]) for c in calls] == [("127.0.0.1", 8911), ("0.0.0.0", 8900)]
    admin = ["/_mock/reset" in c["app"].openapi()["paths"] for c in calls]  # type: ignore[attr-defined]
    assert admin == [False, True]


def test_page_loads_are_counted_by_payer_and_kind_until_a_reset(web: TestClient) -> None:
    page = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}
    frame = {"Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"}
    web.get("/acme/login", headers=page)
    web.get("/beacon/login", headers=page)
    web.get("/beacon/login", headers=frame)
    web.get("/acme/login")  # not a browser navigation (no Sec-Fetch-Mode): not counted
    web.get("/beacon/api/payers?q=ac", headers={"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"})
    traffic = web.get("/_mock/traffic").json()
    assert traffic["page_loads"] == {"acme": {"document": 1}, "beacon": {"document": 1, "iframe": 1}}
    assert [(r["payer"], r["dest"], r["method"], r["path"]) for r in traffic["recent"]] == [
        ("acme", "document", "GET", "/acme/login"),
        ("beacon", "document", "GET", "/beacon/login"),
        ("beacon", "iframe", "GET", "/beacon/login"),
    ]
    web.post("/_mock/reset")
    assert web.get("/_mock/traffic").json() == {"page_loads": {}, "recent": []}
