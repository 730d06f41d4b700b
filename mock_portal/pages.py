"""Rendering server-side pages: one Jinja2 environment, per-render drift, common page context.

Each app holds its `Pages` in `app.state.pages`; routes (module-level routers) render through
`render(request, ...)`, which finds the app's own."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from mock_portal.payers import Payer
from mock_portal.portal import Portal
from mock_portal.validation import FieldErrors

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _money(value: Decimal | str | int) -> str:
    return f"${Decimal(value):,.2f}"


def _us_date(value: date | None) -> str:
    return value.strftime("%m/%d/%Y") if value else ""


def _stamp(value: datetime) -> str:
    return value.strftime("%m/%d/%Y %I:%M:%S %p UTC")


def _long_stamp(value: datetime) -> str:
    return value.strftime("%b %d, %Y at %H:%M UTC")


class Pages:
    def __init__(self, portal: Portal) -> None:
        self._portal = portal
        self._env = Environment(
            loader=FileSystemLoader(TEMPLATES),
            autoescape=select_autoescape(["html"]),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._env.filters.update(money=_money, us_date=_us_date, stamp=_stamp, long_stamp=_long_stamp)

    def render(
        self,
        request: Request,
        payer: Payer | None,
        template: str,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **context: Any,
    ) -> HTMLResponse:
        knobs = self._portal.knobs
        base: dict[str, Any] = {
            "request": request,
            "payer": payer,
            "d": self._portal.drift(),
            "knobs": knobs,
            "now": self._portal.clock.now(),
            "errors": FieldErrors(),
            "form": {},
            "session": None,
            "user": None,
            "notice": "",
        }
        base.update(context)
        html = self._env.get_template(template).render(base)
        response = HTMLResponse(html, status_code=status_code, headers=headers)
        response.headers["Cache-Control"] = "no-store"
        return response


def render(
    request: Request,
    payer: Payer | None,
    template: str,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render with the pages of the app serving `request`."""
    pages: Pages = request.app.state.pages
    return pages.render(request, payer, template, status_code, headers, **context)
