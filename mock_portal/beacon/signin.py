"""Beacon sign-in: User ID + password, a one-time passcode, the periodic security
acknowledgement, the organization/provider picker, the dashboard and the iframe workspaces."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from mock_portal.access import Redirect, client_of, portal_of, signed_in
from mock_portal.beacon.gate import context_bar, ready
from mock_portal.credentials import PasswordCheck, check_password, check_totp, needs_acknowledgement
from mock_portal.forms import form_dict
from mock_portal.pages import Pages
from mock_portal.payers import BEACON as PAYER
from mock_portal.sessions import Session, Stage
from mock_portal.validation import FieldErrors

WRONG_CREDENTIALS = "Invalid User ID or password. Please try again."
LOCKED = "This account is locked because of too many failed login attempts. Contact your administrator."
BAD_CODE = "The passcode you entered is not valid. Please try again."
TOOLS = {
    "eligibility": ("Eligibility and Benefits", "/beacon/app/eligibility"),
    "claims": ("Claims", "/beacon/app/claims/new"),
    "claim-status": ("Claim Status", "/beacon/app/claims/status"),
    "authorizations": ("Authorizations", "/beacon/app/auths/new"),
    "auth-status": ("Authorization Status", "/beacon/app/auths/status"),
    "disputes": ("Disputes", "/beacon/app/disputes"),
}


def router(pages: Pages) -> APIRouter:
    r = APIRouter(prefix=PAYER.base_path)

    def login_page(request: Request, error: str = "", username: str = "") -> Response:
        reason = request.query_params.get("reason", "")
        return pages.render(
            request, PAYER, "beacon/login.html", reason=reason, login_error=error, form={"username": username}
        )

    @r.get("")
    @r.get("/")
    def root() -> Response:
        return RedirectResponse(PAYER.home_path, status_code=303)

    @r.get("/login")
    def login(request: Request) -> Response:
        portal = portal_of(request)
        if portal.traffic.needs_captcha(client_of(request), portal.knobs.captcha):
            raise Redirect(PAYER.url("/captcha"))
        return login_page(request)

    @r.post("/login")
    async def submit_login(request: Request) -> Response:
        portal = portal_of(request)
        client = client_of(request)
        if portal.traffic.needs_captcha(client, portal.knobs.captcha):
            raise Redirect(PAYER.url("/captcha"))
        form = form_dict(await request.form())
        user = portal.state.user(PAYER.key, form.get("username", ""))
        result = check_password(user, form.get("password", ""), portal.knobs.lockout_threshold)
        if result is not PasswordCheck.OK or user is None:
            portal.traffic.login_failed(client)
            return login_page(
                request,
                LOCKED if result is PasswordCheck.LOCKED else WRONG_CREDENTIALS,
                form.get("username", ""),
            )
        session = portal.sessions.create(PAYER.key, user.username, portal.clock.now())
        response = RedirectResponse(PAYER.mfa_path, status_code=303)
        response.set_cookie(
            PAYER.session_cookie, session.sid, path=PAYER.base_path, httponly=True, samesite="lax"
        )
        return response

    def pending(request: Request) -> Session:
        session = portal_of(request).sessions.get(request.cookies.get(PAYER.session_cookie), PAYER.key)
        if session is None or session.stage is not Stage.PASSWORD_OK:
            raise Redirect(PAYER.url("/login"))
        return session

    @r.get("/verify")
    def verify(request: Request) -> Response:
        pending(request)
        return pages.render(request, PAYER, "beacon/verify.html", mfa_error="")

    @r.post("/verify")
    async def submit_verify(request: Request) -> Response:
        portal = portal_of(request)
        session = pending(request)
        user = portal.state.user(PAYER.key, session.username)
        form = form_dict(await request.form())
        if user is None or not check_totp(user, form.get("otp", ""), portal.clock.real_now()):
            return pages.render(request, PAYER, "beacon/verify.html", mfa_error=BAD_CODE)
        now = portal.clock.now()
        session.stage, session.created_at, session.last_seen = Stage.SIGNED_IN, now, now
        session.acknowledged = not needs_acknowledgement(user, now, portal.knobs.security_ack_days)
        portal.traffic.signed_in(client_of(request))
        return RedirectResponse(PAYER.home_path, status_code=303)

    @r.get("/security-notice")
    def security(request: Request) -> Response:
        session, user = signed_in(request, PAYER)
        return pages.render(request, PAYER, "beacon/security.html", session=session, user=user, ack_error="")

    @r.post("/security-notice")
    async def acknowledge(request: Request) -> Response:
        session, user = signed_in(request, PAYER)
        form = form_dict(await request.form())
        if form.get("agree") != "yes":
            return pages.render(
                request,
                PAYER,
                "beacon/security.html",
                session=session,
                user=user,
                ack_error="You must agree to the security terms to continue.",
            )
        session.acknowledged = True
        user.last_ack_at = portal_of(request).clock.now()
        raise Redirect(PAYER.home_path)

    def context_page(
        request: Request, session: Session, form: dict[str, str], errors: FieldErrors
    ) -> Response:
        portal = portal_of(request)
        orgs = portal.state.organizations
        user = portal.state.user(PAYER.key, session.username)
        return pages.render(
            request,
            PAYER,
            "beacon/context.html",
            session=session,
            user=user,
            form=form,
            errors=errors,
            org_options=[(o.tax_id, f"{o.name} (TIN {o.tax_id[:2]}-{o.tax_id[2:]})") for o in orgs],
            provider_options=[
                (p.npi, f"{p.name} - NPI {p.npi} - {o.name}") for o in orgs for p in o.providers
            ],
        )

    @r.get("/select-context")
    def choose_context(request: Request) -> Response:
        session, _ = signed_in(request, PAYER)
        if not session.acknowledged:
            raise Redirect(PAYER.url("/security-notice"))
        return context_page(request, session, {"tax_id": session.tax_id, "npi": session.npi}, FieldErrors())

    @r.post("/select-context")
    async def set_context(request: Request) -> Response:
        session, _ = signed_in(request, PAYER)
        portal = portal_of(request)
        form = form_dict(await request.form())
        errors = FieldErrors()
        org = portal.state.organization(form.get("tax_id", ""))
        provider = portal.state.provider(form.get("npi", ""))
        errors.add("tax_id", None if org else "Choose an organization.")
        errors.add("npi", None if provider else "Choose a provider.")
        if org and provider and provider.tax_id != org.tax_id:
            errors.add("npi", "The selected provider is not part of this organization.")
        if errors or provider is None:
            return context_page(request, session, form, errors)
        session.tax_id, session.npi = provider.tax_id, provider.npi
        raise Redirect(PAYER.home_path)

    @r.get("/dashboard")
    def dashboard(request: Request) -> Response:
        session, user = ready(request)
        return pages.render(
            request,
            PAYER,
            "beacon/dashboard.html",
            session=session,
            user=user,
            context_bar=context_bar(portal_of(request), session),
        )

    @r.get("/workspace/{tool}")
    def workspace(request: Request, tool: str) -> Response:
        session, user = ready(request)
        title, src = TOOLS.get(tool, TOOLS["eligibility"])
        if request.url.query:
            src = f"{src}?{request.url.query}"
        return pages.render(
            request,
            PAYER,
            "beacon/workspace.html",
            session=session,
            user=user,
            tool_title=title,
            frame_src=src,
            context_bar=context_bar(portal_of(request), session),
        )

    @r.get("/api/payers")
    def payer_search(request: Request, q: str = "") -> Response:
        """The payer typeahead's data source (JSON)."""
        try:
            ready(request)
        except Redirect:
            return JSONResponse({"error": "not signed in"}, status_code=401)
        from_directory = portal_of(request).state.payer_directory
        needle = q.strip().lower()
        hits = [] if len(needle) < 2 else [(i, n) for i, n in from_directory if needle in n.lower()][:8]
        return JSONResponse([{"id": i, "name": n} for i, n in hits])

    return r
