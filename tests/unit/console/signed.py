"""A console user driven through TestClient: signs in like a browser and posts forms with the token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from runner.api.app import create_app
from runner.core.operators import Operators, Role
from runner.core.system import System

PASSWORD = "correct horse battery"
_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def fast_operators(system: System) -> None:
    """Argon2 with test-sized costs: the same code path, milliseconds instead of ~0.1 s per hash."""
    system.operators = Operators(
        system.engine, hasher=PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)
    )


def token_in(html: str) -> str:
    match = _TOKEN.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


@dataclass
class Person:
    client: TestClient
    email: str
    csrf: str = ""

    def sign_in(self, password: str = PASSWORD) -> httpx.Response:
        page = self.client.get("/console/signin")
        response = self.client.post(
            "/console/signin",
            data={"email": self.email, "password": password, "csrf_token": token_in(page.text)},
            follow_redirects=False,
        )
        if response.status_code == 303:
            self.csrf = token_in(self.client.get("/console/tasks").text)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(f"/console{path}", **kwargs)

    def post(self, path: str, data: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        form = {"csrf_token": self.csrf, **(data or {})}
        kwargs.setdefault("follow_redirects", False)
        return self.client.post(f"/console{path}", data=form, **kwargs)


def person(system: System, account_id: str, email: str, role: Role) -> Person:
    system.operators.create(account_id, email, role=role, password=PASSWORD)
    return Person(TestClient(create_app(system), raise_server_exceptions=False), email)
