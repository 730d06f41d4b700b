"""Signing in and out over HTTP: cookies, CSRF on every form, lockout, redirects."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from runner.api.app import create_app
from runner.api.console.auth import safe_next
from runner.api.console.throttle import MAX_FAILURES, SignInThrottle
from runner.core.operators import MAX_FAILED_SIGN_INS, Role
from runner.core.system import System
from runner.core.tables import Account
from tests.unit.console.signed import PASSWORD, Person, person, token_in


def test_pages_need_a_session_and_come_back_after_sign_in(system: System, clinic: Account) -> None:
    alice = person(system, clinic.id, "alice@example.test", Role.VIEWER)
    response = alice.get("/tasks?status=failed", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/console/signin?next=%2Ftasks%3Fstatus%3Dfailed"
    page = alice.client.get(response.headers["location"])
    signed_in = alice.client.post(
        "/console/signin",
        data={
            "email": "alice@example.test",
            "password": PASSWORD,
            "csrf_token": token_in(page.text),
            "next": "/tasks?status=failed",
        },
        follow_redirects=False,
    )
    assert signed_in.headers["location"] == "/console/tasks?status=failed"


def test_session_cookie_is_httponly_samesite_and_scoped(system: System, clinic: Account) -> None:
    alice = person(system, clinic.id, "alice@example.test", Role.VIEWER)
    response = alice.sign_in()
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("sopwright_session="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # plain http (a local install)


def test_session_cookie_is_secure_over_https(system: System, clinic: Account) -> None:
    system.operators.create(clinic.id, "alice@example.test", role=Role.VIEWER, password=PASSWORD)
    alice = Person(TestClient(create_app(system), base_url="https://testserver"), "alice@example.test")
    response = alice.sign_in()
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("sopwright_session="))
    assert "Secure" in cookie


def test_wrong_password_is_refused_with_the_form_again(system: System, clinic: Account) -> None:
    alice = person(system, clinic.id, "alice@example.test", Role.VIEWER)
    response = alice.sign_in("not the password")
    assert response.status_code == 401
    assert "The email or the password is not right." in response.text
    assert 'value="alice@example.test"' in response.text
    assert "sopwright_session" not in alice.client.cookies


def test_sign_in_form_needs_its_csrf_token(system: System, clinic: Account) -> None:
    alice = person(system, clinic.id, "alice@example.test", Role.VIEWER)
    alice.client.get("/console/signin")
    response = alice.client.post(
        "/console/signin", data={"email": "alice@example.test", "password": PASSWORD, "csrf_token": "guess"}
    )
    assert response.status_code == 403
    assert "sopwright_session" not in alice.client.cookies


def test_lockout_after_repeated_failures_over_http(system: System, clinic: Account) -> None:
    alice = person(system, clinic.id, "alice@example.test", Role.VIEWER)
    for _ in range(MAX_FAILED_SIGN_INS):
        assert alice.sign_in("not the password").status_code == 401
    locked = alice.sign_in(PASSWORD)  # the right password waits too
    nobody = Person(alice.client, "nobody@example.test").sign_in(PASSWORD)
    assert locked.status_code == nobody.status_code == 401
    assert "locked for 15 minutes" in locked.text
    assert _error(locked.text) == _error(nobody.text)  # a locked login answers like an unknown one


def _error(page: str) -> str:
    found = re.search(r'role="alert"[^>]*>(.*?)<', page, re.S)
    assert found, page
    return found.group(1).strip()


def test_one_client_failing_on_many_logins_is_throttled(system: System, clinic: Account) -> None:
    client = person(system, clinic.id, "alice@example.test", Role.VIEWER).client
    for n in range(MAX_FAILURES):  # password spraying: a different e-mail each time, no lockout
        assert Person(client, f"user{n}@example.test").sign_in("Winter2026!pass").status_code == 401
    throttled = Person(client, "alice@example.test").sign_in(PASSWORD)
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) > 0
    assert "Too many failed sign-ins from this address" in throttled.text
    assert "sopwright_session" not in client.cookies


def test_the_throttle_forgets_after_its_window() -> None:
    now = [1000.0]
    throttle = SignInThrottle(max_failures=2, window=60, clock=lambda: now[0])
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") is None
    throttle.failed("10.0.0.1")
    assert throttle.retry_after("10.0.0.1") == 60
    assert throttle.retry_after("10.0.0.2") is None  # per client
    now[0] += 61
    assert throttle.retry_after("10.0.0.1") is None


def test_the_throttle_remembers_a_bounded_number_of_clients() -> None:
    throttle = SignInThrottle(max_failures=1, window=60, max_clients=3)
    for n in range(10):
        throttle.failed(f"10.0.0.{n}")
    assert throttle.retry_after("10.0.0.0") is None  # forgotten
    assert throttle.retry_after("10.0.0.9") is not None


def test_forms_without_the_session_token_are_refused(
    system: System, reviewer: Person, clinic: Account
) -> None:
    task = system.tasks.create(clinic, type="check_eligibility", data="member id: X", actor="test")
    for token in ("", "forged", reviewer.csrf[:-1]):
        response = reviewer.client.post(
            f"/console/tasks/{task.id}/cancel", data={"csrf_token": token}, follow_redirects=False
        )
        assert response.status_code == 403
        assert "did not come from this console" in response.text
    assert system.tasks.get(clinic.id, task.id)[0].status == "waiting_for_input"


def test_posts_from_another_origin_are_refused_even_with_the_token(
    system: System, reviewer: Person, clinic: Account
) -> None:
    task = system.tasks.create(clinic, type="check_eligibility", data="member id: X", actor="test")
    response = reviewer.post(f"/tasks/{task.id}/cancel", headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    same_site = reviewer.post(f"/tasks/{task.id}/cancel", headers={"Origin": "http://testserver"})
    assert same_site.status_code == 303
    assert system.tasks.get(clinic.id, task.id)[0].status == "failed"


def test_one_sessions_token_does_not_work_for_another(
    system: System, reviewer: Person, clinic: Account
) -> None:
    other = person(system, clinic.id, "other@example.test", Role.REVIEWER)
    other.sign_in()
    task = system.tasks.create(clinic, type="check_eligibility", data="member id: X", actor="test")
    other.csrf = reviewer.csrf
    assert other.post(f"/tasks/{task.id}/cancel").status_code == 403


def test_sign_out_ends_the_session(reviewer: Person) -> None:
    response = reviewer.post("/signout")
    assert response.status_code == 303 and response.headers["location"] == "/console/signin"
    assert reviewer.get("/tasks", follow_redirects=False).status_code == 303


def test_sign_out_needs_the_token(reviewer: Person) -> None:
    reviewer.csrf = "forged"
    assert reviewer.post("/signout").status_code == 403
    assert reviewer.get("/tasks").status_code == 200


def test_pages_are_not_cached_or_framed(reviewer: Person) -> None:
    response = reviewer.get("/tasks")
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_every_form_on_every_page_carries_the_session_token(
    system: System, admin: Person, clinic: Account
) -> None:
    waiting = system.tasks.create(clinic, type="check_eligibility", data="member id: X", actor="test")
    failed = system.tasks.create(clinic, type="check_eligibility", data="member id: X", actor="test")
    system.tasks.cancel(clinic.id, failed.id, reason=None, actor="test")
    for path in ["/tasks", f"/tasks/{waiting.id}", f"/tasks/{failed.id}", "/input", "/new", "/settings"]:
        html = admin.get(path).text
        forms = re.findall(r'<form[^>]*method="post".*?</form>', html, flags=re.S)
        assert forms, path
        for form in forms:
            assert f'name="csrf_token" value="{admin.csrf}"' in form, (path, form[:200])


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/tasks?status=failed", "/tasks?status=failed"),
        ("//evil.example/x", "/tasks"),
        ("https://evil.example/", "/tasks"),
        ("/\\evil.example", "/tasks"),
        ("/\t/evil.example", "/tasks"),
        (None, "/tasks"),
    ],
)
def test_return_paths_stay_inside_the_console(given: str | None, expected: str) -> None:
    assert safe_next(given, "/tasks") == expected
