"""Request dependencies: the wired core (`System`) and the calling account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from runner.core.errors import Unauthorized
from runner.core.system import System
from runner.core.tables import Account


def get_system(request: Request) -> System:
    system: System = request.app.state.system
    return system


SystemDep = Annotated[System, Depends(get_system)]


def get_account(request: Request, system: SystemDep) -> Account:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("Missing API key: send `Authorization: Bearer <api-key>`.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be `Bearer <api-key>`.")
    return system.accounts.authenticate(token.strip())


AccountDep = Annotated[Account, Depends(get_account)]


def actor_of(request: Request, account: Account) -> str:
    header = request.headers.get("authorization", "")
    key_id = header.partition(" ")[2].strip().removeprefix("sk_").split("_", 1)[0]
    return f"api:{key_id}" if key_id else f"api:{account.id}"
