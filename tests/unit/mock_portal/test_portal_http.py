"""The portal over HTTP (FastAPI TestClient, no browser): admin API, sign-in, sessions, hazards."""

from __future__ import annotations

import re
import time

import pytest
from fastapi.testclient import TestClient

from mock_portal.app import create_app
from mock_portal.portal import PortalConfig
from mock_portal.scenarios import MAGIC_MEMBERS
from tests.unit.mock_portal.conftest import ACME_USER, BEACON_USER, totp


def test_every_response_is_marked_as_mock(web: TestClient) -> None:
    for path in ("/", "/acme/login", "/beacon/login", "/static/acme.css", "/_mock/knobs", "/nowhere"):
        assert web.get(path).headers["X-Mock-Portal"] == "1", path


def test_admin_api_is_off_without_the_flag() -> None:
    with TestClient(create_app(PortalConfig(admin=False))) as client:
        assert client.get("/_mock/knobs").status_code == 404
        assert client.post("/_mock/reset").status_code == 404
        assert client.get("/_mock/docs").status_code == 404
        assert client.get("/acme/login").status_code == 200


def test_payers_users_and_scenarios(web: TestClient) -> None:
    payers = web.get("/_mock/payers").json()
    assert payers == [
        {"key": "acme", "name": "Acme Health", "base_path": "/acme", "style": "payer-direct"},
        {"key": "beacon", "name": "Beacon Exchange", "base_path": "/beacon", "style": "exchange"},
    ]
    users = web.get("/_mock/users").json()
    assert {u["username"] for u in users["acme"]} == {"acme.biller", "acme.backup"}
    assert all(re.fullmatch(r"[A-Z2-7]{32}", u["totp_secret"]) for p in users.values() for u in p)
    assert [s["member_id"] for s in web.get("/_mock/scenarios").json()] == [
        m.member_id for m in MAGIC_MEMBERS
    ]


def test_knobs_patch_validates_and_reset_restores(web: TestClient) -> None:
    assert web.patch("/_mock/knobs", json={"bogus": 1}).status_code == 422
    assert web.patch("/_mock/knobs", json={"latency_ms": -1}).status_code == 422
    assert web.patch("/_mock/knobs", json={"idle_timeout_seconds": 30}).json()["idle_timeout_seconds"] == 30
    advanced = web.post("/_mock/clock/advance", json={"seconds": 120}).json()
    assert advanced["clock_offset_seconds"] == 120
    web.post("/_mock/reset")
    knobs = web.get("/_mock/knobs").json()
    assert knobs["idle_timeout_seconds"] == 900 and knobs["clock_offset_seconds"] == 0


@pytest.mark.parametrize(
    ("path", "login"),
    [
        ("/acme/home", "/acme/login"),
        ("/beacon/dashboard", "/beacon/login"),
        ("/beacon/app/eligibility", "/beacon/login"),
    ],
)
def test_pages_need_a_session(web: TestClient, path: str, login: str) -> None:
    response = web.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == login


def test_wrong_password_then_lockout_after_five(web: TestClient) -> None:
    for _ in range(4):
        page = web.post("/acme/login", data={**ACME_USER, "password": "nope"})
        assert "username or password you entered is incorrect" in page.text
    locked = web.post("/acme/login", data={**ACME_USER, "password": "nope"})
    assert "has been locked" in locked.text
    assert "has been locked" in web.post("/acme/login", data=ACME_USER).text
    assert web.post("/_mock/users/acme/acme.biller/unlock").json()["locked"] is False
    assert web.post("/acme/login", data=ACME_USER).url.path == "/acme/login/verify"


def test_wrong_totp_code_is_refused(web: TestClient) -> None:
    web.post("/acme/login", data=ACME_USER)
    page = web.post("/acme/login/verify", data={"code": "000000"})
    assert 'data-testid="mfa-error"' in page.text and page.url.path == "/acme/login/verify"


def test_mfa_page_needs_a_password_first(web: TestClient) -> None:
    assert web.get("/acme/login/verify").url.path == "/acme/login"


def test_idle_timeout_ends_the_session(acme: TestClient) -> None:
    acme.post("/_mock/clock/advance", json={"seconds": 901})
    page = acme.get("/acme/home")
    assert page.url.path == "/acme/login" and page.url.query == b"reason=idle"
    assert "signed out after a period of inactivity" in page.text
    assert acme.get("/acme/home").url.path == "/acme/login"  # the session is gone, not just paused


def test_activity_keeps_the_session_alive(acme: TestClient) -> None:
    for _ in range(3):
        acme.post("/_mock/clock/advance", json={"seconds": 600})
        assert acme.post("/acme/session/keepalive").status_code == 200
    assert acme.get("/acme/home").url.path == "/acme/home"


def test_absolute_session_lifetime(acme: TestClient) -> None:
    acme.patch("/_mock/knobs", json={"session_lifetime_seconds": 60})
    acme.post("/_mock/clock/advance", json={"seconds": 61})
    page = acme.get("/acme/home")
    assert page.url.query == b"reason=lifetime" and "Your session has ended" in page.text
    assert acme.post("/acme/session/keepalive").status_code == 401


def test_logout(acme: TestClient) -> None:
    page = acme.post("/acme/logout")
    assert page.url.query == b"reason=signed_out"
    assert acme.get("/acme/home").url.path == "/acme/login"


def beacon_login(web: TestClient) -> str:
    web.post("/beacon/login", data=BEACON_USER)
    return web.post("/beacon/verify", data={"otp": totp(web, "beacon", "beacon.biller")}).url.path


def test_beacon_security_acknowledgement_every_n_days(web: TestClient) -> None:
    assert beacon_login(web) == "/beacon/security-notice"
    refused = web.post("/beacon/security-notice", data={})
    assert "must agree" in refused.text
    assert web.post("/beacon/security-notice", data={"agree": "yes"}).url.path == "/beacon/select-context"
    web.get("/beacon/logout")
    assert beacon_login(web) == "/beacon/select-context"
    web.get("/beacon/logout")
    web.post("/_mock/clock/advance", json={"seconds": 14 * 86_400})
    assert beacon_login(web) == "/beacon/security-notice"


def test_beacon_context_picker_checks_the_provider_belongs_to_the_org(web: TestClient) -> None:
    beacon_login(web)
    web.post("/beacon/security-notice", data={"agree": "yes"})
    mismatch = web.post("/beacon/select-context", data={"tax_id": "123456789", "npi": "2123456784"})
    assert (
        "not part of this organization" in mismatch.text and 'data-testid="bx-error-summary"' in mismatch.text
    )
    ok = web.post("/beacon/select-context", data={"tax_id": "452345678", "npi": "2123456784"})
    assert ok.url.path == "/beacon/dashboard" and "NPI 2123456784" in ok.text and "TIN 45-2345678" in ok.text


def test_payer_typeahead_api(web: TestClient, beacon: TestClient) -> None:
    assert [p["id"] for p in beacon.get("/beacon/api/payers", params={"q": "acme"}).json()] == [
        "ACMEH",
        "ACMEM",
    ]
    assert beacon.get("/beacon/api/payers", params={"q": "a"}).json() == []
    with TestClient(create_app(PortalConfig(admin=True))) as anonymous:
        assert anonymous.get("/beacon/api/payers", params={"q": "acme"}).status_code == 401


def test_beacon_workspace_embeds_the_workflow_in_an_iframe(beacon: TestClient) -> None:
    page = beacon.get("/beacon/workspace/disputes", params={"claim_number": "BX26A0000101"})
    assert re.search(
        r'<iframe[^>]+title="Disputes workspace"[^>]+src="/beacon/app/disputes\?claim_number=BX26A0000101"',
        page.text,
    )


def test_maintenance_page_but_admin_still_answers(acme: TestClient) -> None:
    acme.patch("/_mock/knobs", json={"maintenance": True})
    page = acme.get("/acme/home")
    assert page.status_code == 503 and page.headers["Retry-After"] == "3600" and "maintenance" in page.text
    assert page.headers["X-Mock-Portal"] == "1"
    assert acme.get("/_mock/knobs").status_code == 200


def test_rate_limit_answers_429(web: TestClient) -> None:
    web.patch("/_mock/knobs", json={"rate_limit_per_minute": 3})
    codes = [web.get("/acme/login").status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert "Too many requests" in web.get("/beacon/login").text


def test_injected_server_errors(web: TestClient) -> None:
    web.patch("/_mock/knobs", json={"error_rate": 1.0})
    page = web.get("/acme/login")
    assert page.status_code == 500 and "Something went wrong" in page.text
    web.patch("/_mock/knobs", json={"error_rate": 0.0})
    assert web.get("/acme/login").status_code == 200


def test_added_latency(web: TestClient) -> None:
    web.patch("/_mock/knobs", json={"latency_ms": 200})
    started = time.monotonic()
    web.get("/acme/login")
    assert time.monotonic() - started >= 0.2


def test_captcha_after_failed_logins(web: TestClient) -> None:
    web.patch("/_mock/knobs", json={"captcha": "suspicious"})
    web.post("/acme/login", data={**ACME_USER, "password": "x"})
    page = web.post("/acme/login", data={**ACME_USER, "password": "x"})
    assert web.get("/acme/login").url.path == "/acme/captcha"
    assert 'data-testid="captcha"' in web.post("/acme/login", data=ACME_USER).text
    assert web.post("/acme/captcha", data={}).status_code == 400
    assert web.post("/acme/captcha", data={"not_a_robot": "yes"}).url.path == "/acme/login"
    assert web.post("/acme/login", data=ACME_USER).url.path == "/acme/login/verify"
    assert page.status_code == 200


def test_drift_changes_ids_per_render_and_labels_follow(web: TestClient) -> None:
    stable = [re.findall(r'id="([^"]+)"', web.get("/acme/login").text) for _ in range(2)]
    assert stable[0] == stable[1] and "username" in stable[0]
    web.patch("/_mock/knobs", json={"drift_seed": 11})
    pages = [web.get("/acme/login").text for _ in range(2)]
    ids = [re.search(r'<input[^>]+id="([^"]+)" name="username"', p).group(1) for p in pages]  # type: ignore[union-attr]
    assert ids[0] != ids[1] and all(i.startswith(":r") for i in ids)
    for page, input_id in zip(pages, ids, strict=True):
        assert f'<label for="{input_id}">Username' in page
    classes = [re.search(r'<body class="([^"]+)"', p).group(1) for p in pages]  # type: ignore[union-attr]
    assert classes[0] != classes[1] and all(c.startswith("acmePage-") for c in classes)


def test_masked_date_and_banner_knobs(acme: TestClient) -> None:
    page = acme.get("/acme/eligibility").text
    assert 'data-mask="date"' in page and 'data-testid="info-banner"' in page
    acme.patch("/_mock/knobs", json={"masked_date_input": False, "banners": False})
    page = acme.get("/acme/eligibility").text
    assert 'data-mask="date"' not in page and 'data-testid="info-banner"' not in page


def test_acme_claim_form_adds_and_removes_lines_by_round_trip(acme: TestClient) -> None:
    form = {"line_count": "2", "line_0_procedure_code": "99213", "line_1_procedure_code": "93000"}
    added = acme.post("/acme/claims/new", data={**form, "action": "add_line"}).text
    assert added.count('data-testid="service-line"') == 3
    removed = acme.post("/acme/claims/new", data={**form, "action": "remove_line_0"}).text
    assert removed.count('data-testid="service-line"') == 1 and 'value="93000"' in removed


def test_acme_wizard_steps_cannot_be_skipped(acme: TestClient) -> None:
    assert acme.get("/acme/auths/new").url.path == "/acme/auths/new/1"
    assert acme.get("/acme/auths/new/3").url.path == "/acme/auths/new/1"
    step1 = acme.post("/acme/auths/new/1", data={"member_id": "SYN100001", "action": "next"})
    assert step1.url.path == "/acme/auths/new/1" and 'data-testid="error-summary"' in step1.text
    back = acme.post("/acme/auths/new/1", data={"member_id": "SYN100001", "action": "back"})
    assert 'value="SYN100001"' in back.text


def test_submissions_filter_by_payer_and_kind(acme: TestClient) -> None:
    data = {
        "member_id": "SYN100001", "patient_first_name": "Ada", "patient_last_name": "Testmember",
        "date_of_birth": "04/12/1980", "service_type": "30", "provider_npi": "2000000002",
    }  # fmt: skip
    acme.post("/acme/eligibility", data=data)
    assert len(acme.get("/_mock/submissions", params={"payer": "acme", "kind": "eligibility"}).json()) == 1
    assert acme.get("/_mock/submissions", params={"payer": "beacon"}).json() == []
    assert acme.get("/_mock/submissions", params={"kind": "claim"}).json() == []
    assert acme.get("/_mock/submissions/1").json()["fields"]["date_of_birth"] == "1980-04-12"
    assert acme.get("/_mock/submissions/99").status_code == 404


def test_an_unexpected_error_is_a_marked_error_page(web: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("bug")

    monkeypatch.setattr("mock_portal.workflows.eligibility.check", broken)
    with TestClient(web.app, raise_server_exceptions=False) as client:
        client.post("/acme/login", data=ACME_USER)
        client.post("/acme/login/verify", data={"code": totp(client, "acme", "acme.biller")})
        data = {
            "member_id": "SYN100001", "patient_first_name": "Ada", "patient_last_name": "Testmember",
            "date_of_birth": "04/12/1980", "provider_npi": "2000000002",
        }  # fmt: skip
        page = client.post("/acme/eligibility", data=data)
    assert (
        page.status_code == 500
        and page.headers["X-Mock-Portal"] == "1"
        and "Something went wrong" in page.text
    )


def test_traffic_counts_page_and_frame_loads_per_payer_until_reset(web: TestClient) -> None:
    assert web.get("/_mock/traffic").json() == {"page_loads": {}}
    web.get("/acme/login")  # no Sec-Fetch-Dest header: a page load
    web.get("/acme/login", headers={"Sec-Fetch-Dest": "document"})
    web.get("/beacon/login", headers={"Sec-Fetch-Dest": "iframe"})
    web.get("/beacon/api/payers", params={"q": "acme"}, headers={"Sec-Fetch-Dest": "empty"})  # fetch()
    web.get("/static/acme.css", headers={"Sec-Fetch-Dest": "style"})
    web.get("/_mock/knobs")
    assert web.get("/_mock/traffic").json() == {
        "page_loads": {"acme": {"document": 2}, "beacon": {"iframe": 1}}
    }
    web.post("/_mock/reset")
    assert web.get("/_mock/traffic").json() == {"page_loads": {}}
