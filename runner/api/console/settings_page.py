"""Account settings for admins: API keys, portal logins (secrets never shown) and the webhook URL."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from runner.api.console.auth import FormDep, OperatorDep
from runner.api.console.render import redirect, render
from runner.api.console.tasks import ACTION_ERRORS
from runner.api.deps import SystemDep
from runner.core.errors import InvalidRequest, NotFound
from runner.core.operators import Role
from runner.core.tables import utcnow
from runner.core.tables.base import as_utc

router = APIRouter()


def _page(request: Request, system: SystemDep, me: OperatorDep, *, new_key: str | None = None) -> Response:
    account = system.accounts.find(me.account.id)
    operators = system.operators.of_account(account.id)
    now = utcnow()
    return render(
        request,
        "settings.html",
        {
            "account": account,
            "keys": system.accounts.list_keys(account.id),
            "logins": system.credentials.of_account(account.id),
            "portal_names": system.credentials.default_names,
            "operators": operators,
            "locked": {o.id for o in operators if (as_utc(o.locked_until) or now) > now},
            "new_key": new_key,
        },
    )


@router.get("/settings", name="settings")
def settings_page(request: Request, system: SystemDep, me: OperatorDep) -> Response:
    me.require(Role.ADMIN, "manage the account's settings")
    return _page(request, system, me)


@router.post("/settings/webhook")
def set_webhook(request: Request, system: SystemDep, me: OperatorDep, form: FormDep) -> Response:
    me.require(Role.ADMIN, "change the webhook URL")
    url = form.text("webhook_url")
    try:
        system.accounts.set_webhook_url(me.account.id, url or None)
    except ACTION_ERRORS as exc:
        return redirect(request, "/settings", error=exc.message)
    return redirect(request, "/settings", ok="Webhook URL saved." if url else "Webhook URL removed.")


@router.post("/settings/keys")
def create_key(request: Request, system: SystemDep, me: OperatorDep, form: FormDep) -> Response:
    me.require(Role.ADMIN, "create API keys")
    _row, plaintext = system.accounts.create_key(me.account.id, label=form.text("label")[:200] or None)
    # Shown once, in this response only (never stored, never in a redirect or a cookie).
    return _page(request, system, me, new_key=plaintext)


@router.post("/settings/keys/{key_id}/revoke")
def revoke_key(request: Request, system: SystemDep, me: OperatorDep, _form: FormDep, key_id: str) -> Response:
    me.require(Role.ADMIN, "revoke API keys")
    if key_id not in {k.id for k in system.accounts.list_keys(me.account.id)}:
        raise NotFound("No such API key in this account.")
    system.accounts.revoke_key(key_id)
    return redirect(request, "/settings", ok=f"API key {key_id} revoked.")


@router.post("/settings/logins")
def save_login(request: Request, system: SystemDep, me: OperatorDep, form: FormDep) -> Response:
    me.require(Role.ADMIN, "manage portal logins")
    try:
        sessions = int(form.text("max_sessions") or 2)
        rate = int(form.text("rate_per_minute") or 30)
        minutes = form.text("listing_delay")
        listing_delay = int(minutes) * 60 if minutes else None
    except ValueError:
        return redirect(request, "/settings", error="Sessions, rate and listing delay must be whole numbers.")
    try:
        if not form.text("payer"):
            raise InvalidRequest("Name the payer (the portal key, e.g. acme).")
        row = system.credentials.add(
            me.account.id,
            payer=form.text("payer"),
            url=form.text("url"),
            username=form.text("username"),
            password=form.values.get("password", ""),
            totp_secret=form.text("totp_secret") or None,
            serves=[s for s in form.text("serves").split(",") if s.strip()],
            max_sessions=sessions,
            rate_per_minute=rate,
            name=form.text("name") or None,
            listing_delay=listing_delay,
        )
    except ACTION_ERRORS as exc:
        return redirect(request, "/settings", error=exc.message)
    return redirect(
        request, "/settings", ok=f"Portal login {row.username} on {row.payer} ({row.name}) saved."
    )
