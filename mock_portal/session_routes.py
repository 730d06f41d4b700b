"""Routes every payer has besides its pages: keep-alive, sign-out and the CAPTCHA check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from mock_portal.access import Redirect, client_of, portal_of, signed_in
from mock_portal.pages import render
from mock_portal.payers import Payer


def session_router(payer: Payer) -> APIRouter:
    """The same routes under each payer's base path."""
    router = APIRouter(prefix=payer.base_path, include_in_schema=False)

    @router.post("/session/keepalive")
    def keepalive(request: Request) -> Response:
        """The "Stay signed in" button of the idle warning."""
        try:
            signed_in(request, payer)
        except Redirect as exc:
            return JSONResponse({"signed_in": False, "login": exc.url}, status_code=401)
        return JSONResponse(
            {"signed_in": True, "idle_timeout_seconds": portal_of(request).knobs.idle_timeout_seconds}
        )

    @router.api_route("/logout", methods=["GET", "POST"])
    def logout(request: Request, reason: str = "signed_out") -> Response:
        portal_of(request).sessions.end(request.cookies.get(payer.session_cookie, ""))
        reason = reason if reason in ("idle", "signed_out", "lifetime") else "signed_out"
        response = RedirectResponse(payer.url(f"/login?reason={reason}"), status_code=303)
        response.delete_cookie(payer.session_cookie, path=payer.base_path)
        return response

    @router.get("/captcha")
    def captcha(request: Request) -> Response:
        return render(request, payer, "captcha.html")

    @router.post("/captcha")
    async def solve_captcha(request: Request) -> Response:
        form = await request.form()
        if form.get("not_a_robot") != "yes":
            return render(request, payer, "captcha.html", status_code=400, failed=True)
        portal_of(request).traffic.captcha_passed(client_of(request))
        return RedirectResponse(payer.url("/login"), status_code=303)

    return router
