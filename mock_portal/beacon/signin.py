"""Beacon sign-in: User ID + password, a one-time passcode, the periodic security
acknowledgement, the organization/provider picker, the dashboard and the iframe workspaces."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import JSONResponse, Response

from mock_portal import signin
from mock_portal.access import Redirect, portal_of, signed_in
from mock_portal.beacon.gate import context_bar, ready
from mock_portal.credentials import needs_acknowledgement
from mock_portal.forms import form_dict
from mock_portal.models import User
from mock_portal.pages import render
from mock_portal.payers import BEACON as PAYER
from mock_portal.portal import Portal
from mock_portal.sessions import Session
from mock_portal.validation import FieldErrors

TOOLS = {
    "eligibility": ("Eligibility and Benefits", "/beacon/app/eligibility"),
    "claims": ("Claims", "/beacon/app/claims/new"),
    "claim-status": ("Claim Status", "/beacon/app/claims/status"),
    "authorizations": ("Authorizations", "/beacon/app/auths/new"),
    "auth-status": ("Authorization Status", "/beacon/app/auths/status"),
    "disputes": ("Disputes", "/beacon/app/disputes"),
}


def _acknowledged(portal: Portal, session: Session, user: User) -> None:
    """The security terms are shown again when the last agreement is older than the knob's days."""
    session.acknowledged = not needs_acknowledgement(user, portal.clock.now(), portal.knobs.security_ack_days)


SIGN_IN = signin.SignIn(
    payer=PAYER,
    login_template="beacon/login.html",
    mfa_template="beacon/verify.html",
    code_field="otp",
    wrong_credentials="Invalid User ID or password. Please try again.",
    locked="This account is locked because of too many failed login attempts. Contact your administrator.",
    bad_code="The passcode you entered is not valid. Please try again.",
    after_passcode=_acknowledged,
)

router = SIGN_IN.router()


@router.get("/security-notice")
def security(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    return render(request, PAYER, "beacon/security.html", session=session, user=user, ack_error="")


@router.post("/security-notice")
async def acknowledge(request: Request) -> Response:
    session, user = signed_in(request, PAYER)
    form = form_dict(await request.form())
    if form.get("agree") != "yes":
        return render(
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


def context_page(request: Request, session: Session, form: dict[str, str], errors: FieldErrors) -> Response:
    portal = portal_of(request)
    orgs = portal.state.organizations
    user = portal.state.user(PAYER.key, session.username)
    return render(
        request,
        PAYER,
        "beacon/context.html",
        session=session,
        user=user,
        form=form,
        errors=errors,
        org_options=[(o.tax_id, f"{o.name} (TIN {o.tax_id[:2]}-{o.tax_id[2:]})") for o in orgs],
        provider_options=[(p.npi, f"{p.name} - NPI {p.npi} - {o.name}") for o in orgs for p in o.providers],
    )


@router.get("/select-context")
def choose_context(request: Request) -> Response:
    session, _ = signed_in(request, PAYER)
    if not session.acknowledged:
        raise Redirect(PAYER.url("/security-notice"))
    return context_page(request, session, {"tax_id": session.tax_id, "npi": session.npi}, FieldErrors())


@router.post("/select-context")
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


@router.get("/dashboard")
def dashboard(request: Request) -> Response:
    session, user = ready(request)
    return render(
        request,
        PAYER,
        "beacon/dashboard.html",
        session=session,
        user=user,
        context_bar=context_bar(portal_of(request), session),
    )


@router.get("/workspace/{tool}")
def workspace(request: Request, tool: str) -> Response:
    session, user = ready(request)
    title, src = TOOLS.get(tool, TOOLS["eligibility"])
    if request.url.query:
        src = f"{src}?{request.url.query}"
    return render(
        request,
        PAYER,
        "beacon/workspace.html",
        session=session,
        user=user,
        tool_title=title,
        frame_src=src,
        context_bar=context_bar(portal_of(request), session),
    )


@router.get("/api/payers")
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
