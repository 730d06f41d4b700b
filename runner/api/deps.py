"""Request dependencies: the wired core (`System`) and the caller (the account, and who acted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.datastructures import Headers

from runner.core import keys
from runner.core.errors import Unauthorized
from runner.core.system import System
from runner.core.tables import Account


# The pure dependencies are `async def`: FastAPI runs a plain `def` dependency in the threadpool,
# a thread hop per request for a dictionary read.
async def get_system(request: Request) -> System:
    system: System = request.app.state.system
    return system


SystemDep = Annotated[System, Depends(get_system)]


# Declares the Bearer scheme in the OpenAPI document (the header is read below, with our errors).
_BEARER = HTTPBearer(auto_error=False, description="An API key: `Authorization: Bearer sk_...`.")


@dataclass(frozen=True)
class Caller:
    """Who is calling: the account the API key belongs to, and the actor the task timeline names
    (the key's public id)."""

    account: Account
    actor: str


def caller_of(system: System, headers: Headers) -> Caller:
    """The caller a request's `Authorization` header names (a database read: call it off the event
    loop); Unauthorized if the header is missing, malformed, or names no valid key."""
    header = headers.get("authorization")
    if not header:
        raise Unauthorized("Missing API key: send `Authorization: Bearer <api-key>`.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("The Authorization header must be `Bearer <api-key>`.")
    account = system.accounts.authenticate(token.strip())
    # authenticate has checked the key's shape, so its public id can be read from it.
    return Caller(account, actor=f"api:{keys.key_id_of(token.strip())}")


def get_caller(
    request: Request,
    system: SystemDep,
    _scheme: Annotated[HTTPAuthorizationCredentials | None, Depends(_BEARER)] = None,
) -> Caller:
    return caller_of(system, request.headers)


CallerDep = Annotated[Caller, Depends(get_caller)]


async def get_account(caller: CallerDep) -> Account:
    return caller.account


AccountDep = Annotated[Account, Depends(get_account)]
