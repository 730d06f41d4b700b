"""Rendering pages: the Jinja2 environment, its filters, one-shot flash messages and redirects."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from runner.core.states import TaskStatus
from runner.core.tables.base import as_utc
from sops import jsonlimits
from sops.errors import JsonRefused
from sops.fields import FIELDS, LINE_FIELDS

FLASH_COOKIE = "sopwright_flash"
LINE_ORDER = {name: index for index, name in enumerate(LINE_FIELDS)}
_TASK_REF = re.compile(r"task #(\d{1,9})")

templates = Jinja2Templates(directory=Path(__file__).parent / "templates")


def root_of(request: Request) -> str:
    return str(request.scope.get("root_path", ""))


def when(value: datetime | None) -> str:
    value = as_utc(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "—"


def when_short(value: datetime | None) -> str:
    value = as_utc(value)
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if value else "—"


def iso(value: datetime | None) -> str:
    value = as_utc(value)
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else ""


def status_label(status: str) -> str:
    return status.replace("_", " ")


def field_label(name: str) -> str:
    spec = FIELDS.get(name)
    label = spec.label if spec else name.replace("_", " ")
    return label[:1].upper() + label[1:]


def value_text(value: Any, depth: int = 0) -> str:
    """A stored value as one line of text, whatever its shape (nesting is cut at the JSON limit)."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, list | dict) and depth >= jsonlimits.MAX_DEPTH:
        return jsonlimits.TOO_DEEP
    if isinstance(value, list):
        return ", ".join(value_text(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{str(k).replace('_', ' ')} {value_text(v, depth + 1)}" for k, v in value.items())
    return str(value)


def is_records(value: Any) -> bool:
    """A non-empty list of records (service lines), shown as a table; anything else is text."""
    return isinstance(value, list) and bool(value) and all(isinstance(row, dict) for row in value)


def line_columns(rows: list[dict[str, Any]]) -> list[str]:
    """The keys of a list of records (service lines), in the order the SOP docs list them."""
    keys = {str(key) for row in rows for key in row}
    return sorted(keys, key=lambda k: (LINE_ORDER.get(k, len(LINE_ORDER)), k))


def line_label(name: str) -> str:
    """A column heading for a key of a list's records (service lines)."""
    spec = LINE_FIELDS.get(name)
    return (spec.heading or spec.label) if spec else name.replace("_", " ")


def link_tasks(request: Request, text: str | None) -> Markup:
    """Escape `text`, turning "task #12" into a link to that task."""
    root = root_of(request)
    escaped = str(escape(text or ""))
    # Safe: `escaped` is escaped text, and the link only adds digits matched by _TASK_REF.
    linked = _TASK_REF.sub(lambda m: f'<a href="{root}/tasks/number/{m.group(1)}">{m.group(0)}</a>', escaped)
    return Markup(linked)  # noqa: S704


templates.env.filters.update(
    when=when,
    when_short=when_short,
    iso=iso,
    status_label=status_label,
    field_label=field_label,
    value_text=value_text,
    line_columns=line_columns,
    line_label=line_label,
)
templates.env.tests.update(records=is_records)
templates.env.globals.update(statuses=list(TaskStatus), link_tasks=link_tasks)


def _read_flash(request: Request) -> dict[str, str] | None:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return None
    try:  # a cookie is client input: bounded like any JSON a client sends
        data = jsonlimits.loads(base64.urlsafe_b64decode(raw.encode()), max_depth=1)
    except (ValueError, JsonRefused):
        return None
    if not isinstance(data, dict) or data.get("kind") not in ("ok", "error"):
        return None
    return {"kind": str(data["kind"]), "text": str(data.get("text", ""))[:1000]}


def render(request: Request, template: str, context: dict[str, Any], *, status: int = 200) -> Response:
    signed = getattr(request.state, "signed_in", None)
    flash = _read_flash(request)
    nav_counts = context.get("counts") or (
        request.app.state.system.tasks.counts(signed.account.id) if signed is not None else {}
    )
    # Every page of a signed-in account shows the portals of its logins that are down.
    portals_down = (
        request.app.state.system.portal_health.down_for_account(signed.account.id)
        if signed is not None
        else []
    )
    response = templates.TemplateResponse(
        request,
        template,
        {
            "root": root_of(request),
            "me": signed,
            "portals_down": portals_down,
            "nav_counts": nav_counts,
            "csrf": signed.session.csrf_token if signed is not None else "",
            "flash": flash,
            "current_path": request.url.path,
            **context,
        },
        status_code=status,
    )
    if flash is not None:
        response.delete_cookie(FLASH_COOKIE, path=root_of(request) or "/")
    return response


def redirect(request: Request, path: str, *, ok: str | None = None, error: str | None = None) -> Response:
    """A 303 to a console path, carrying a one-shot message shown on the next page."""
    response = RedirectResponse(root_of(request) + path, status_code=303)
    if ok or error:
        payload = json.dumps({"kind": "ok" if ok else "error", "text": (ok or error or "")[:1000]})
        response.set_cookie(
            FLASH_COOKIE,
            base64.urlsafe_b64encode(payload.encode()).decode(),
            max_age=120,
            path=root_of(request) or "/",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response
