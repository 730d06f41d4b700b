"""A payer's status pages, drawn the same way on every payer: the search form with its results, a
record's detail page (a poll) and its PDF.

The payers' route modules give only what is theirs: the sign-in gate, date format, templates,
words, URLs, the detail page's extra context and the document."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from mock_portal.access import portal_of
from mock_portal.downloads import download
from mock_portal.models import User
from mock_portal.pages import render
from mock_portal.payers import Payer
from mock_portal.portal import Portal
from mock_portal.sessions import Session
from mock_portal.validation import FieldErrors
from mock_portal.workflows.documents import Document
from mock_portal.workflows.status import DateFields, Q, R, Records

Gate = Callable[[Request], tuple[Session, User]]  # the caller's session and user, or a redirect


@dataclass(frozen=True)
class Desk:
    """What one payer's status pages share: who may see them, its dates, how a miss is drawn."""

    payer: Payer
    gate: Gate
    dates: DateFields
    not_found: str  # the 404 page's template

    def missing(self, request: Request, what: str) -> Response:
        session, user = self.gate(request)
        return render(
            request, self.payer, self.not_found, status_code=404, session=session, user=user, what=what
        )


@dataclass(frozen=True)
class StatusPages(Generic[Q, R]):
    """One payer's pages for one kind of record (its claims, its authorizations).

    The `missing_*` words name what a 404 did not find; "{number}" is replaced by the URL's."""

    desk: Desk
    records: Records[Q, R]
    search_template: str
    detail_template: str
    labels: Mapping[str, str]  # the record's status or decision, in the payer's words
    missing_query: str  # the search form filled with neither a number nor a member id
    missing_record: str
    missing_document: str
    document: Callable[[R], Document | None]  # the record's PDF; None while it has none
    context: Callable[[Portal, R], dict[str, Any]]  # the detail page's own context

    def router(self, prefix: str, *, search: str, detail: str, document: str) -> APIRouter:
        """The three routes; `detail` and `document` take the record's number as "{number}"."""
        router = APIRouter(prefix=prefix)
        router.add_api_route(search, self.search_page, methods=["GET"])
        router.add_api_route(document, self.document_download, methods=["GET"])
        router.add_api_route(detail, self.detail_page, methods=["GET"])
        return router

    def search_page(self, request: Request) -> Response:
        """The search form; filled in (any query parameter), also its results or its errors."""
        session, user = self.desk.gate(request)
        portal = portal_of(request)
        form = dict(request.query_params)
        results = None
        errors = FieldErrors()
        if form:
            query = self.records.read(form, self.desk.dates, self.missing_query)
            if isinstance(query, FieldErrors):
                errors = query
            else:
                results = self.records.search(
                    portal.state,
                    self.desk.payer.key,
                    query,
                    now=portal.clock.now(),
                    knobs=portal.knobs,
                    username=user.username,
                )
        return self._render(
            request, self.search_template, session, user, form=form, errors=errors, results=results
        )

    def detail_page(self, request: Request, number: str) -> Response:
        """The record's page (a poll)."""
        session, user = self.desk.gate(request)
        portal = portal_of(request)
        record = self.records.get(portal.state, self.desk.payer.key, number)
        if record is None:
            return self.desk.missing(request, self.missing_record.format(number=number))
        self.records.view(
            portal.state, record, now=portal.clock.now(), knobs=portal.knobs, username=user.username
        )
        context = {self.records.kind: record, **self.context(portal, record)}
        return self._render(request, self.detail_template, session, user, **context)

    def document_download(self, request: Request, number: str) -> Response:
        """The record's PDF as a download."""
        self.desk.gate(request)
        portal = portal_of(request)
        record = self.records.get(portal.state, self.desk.payer.key, number)
        document = self.document(record) if record else None
        if record is None or document is None:
            return self.desk.missing(request, self.missing_document.format(number=number))
        key = self.desk.payer.key
        return download(
            portal.state,
            key,
            self.records.number(record),
            document,
            portal.clock.now(),
            inline=portal.knobs.documents_in_new_tab,
        )

    def _render(
        self, request: Request, template: str, session: Session, user: User, **context: Any
    ) -> Response:
        return render(
            request, self.desk.payer, template, session=session, user=user, labels=self.labels, **context
        )
