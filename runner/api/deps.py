"""Request dependencies: the wired core (`System`) and the calling account."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from runner.core import keys
from runner.core.errors import Unauthorized
from runner.core.system import System
from runner.core.tables import Account


def get_system(request: Request) -> System:
    system: System = request.app.state.system
    return system


SystemDep = Annotated[System, Depends(get_system)]


# Declares the Bearer scheme in the OpenAPI document (the header is read below, with our errors).
_BEARER = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer sk_...`.")


def get_account(
    request: Request,
    system: SystemDep,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
) -> Account:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("Missing API key: send `Authorization: Bearer <api-key>`.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be `Bearer <api-key>`.")
    account = system.accounts.authenticate(token.strip())
    # Who acted, for the task timeline: the key's public id (authenticate has checked its shape).
    request.state.actor = f"api:{keys.key_id_of(token.strip())}"
    return account


AccountDep = Annotated[Account, Depends(get_account)]


def actor_of(request: Request, account: Account) -> str:
    actor = getattr(request.state, "actor", None)
    return actor if isinstance(actor, str) else f"api:{account.id}"
