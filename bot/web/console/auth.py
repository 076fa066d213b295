"""Console sign-in and sign-out, and the dependencies every console route stands behind.

- `check_csrf` (on the whole /console router): an unsafe request must not come from another site
  (Origin, Sec-Fetch-Site), and must carry a form token as `csrf_token` or `X-CSRF-Token`: the token
  of the visitor's session for every action, the sign-in form's token for `POST /console/login` only.
  The sign-in form's cookie is signed by the server, so a planted one counts for nothing.
- `require_staff` (on every page router): the signed-in user, or a redirect to the sign-in page (GET)
  or a 401 page (anything else).
- `require_role("admin")`: for pages and actions only admins may use.
"""

import hmac
import math
import secrets
from collections.abc import Awaitable, Callable
from typing import Annotated
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Depends, FastAPI, Form, Request, Response
from fastapi.responses import RedirectResponse

from bot.store.staff import Role, StaffUser
from bot.usecases import staff
from bot.web import state
from bot.web.console import cookies
from bot.web.console.templates import render
from bot.web.deps import ServicesDep

PREFIX = "/console"
HOME = PREFIX + "/"
LOGIN = PREFIX + "/login"
SESSION_COOKIE = "doorstep_session"
LOGIN_COOKIE = "doorstep_login"  # the sign-in form's nonce (signed), before there is a session
LOGIN_FORM = "login form"  # the purposes the server signs for
LOGIN_NONCE = "login nonce"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
RANK: dict[Role, int] = {"agent": 1, "admin": 2}

router = APIRouter()


class SignInRequiredError(Exception):
    """No live session: the visitor has to sign in (again)."""


class CsrfError(Exception):
    """An unsafe request without the form token of its session."""


class RoleRequiredError(Exception):
    def __init__(self, role: Role) -> None:
        super().__init__(role)
        self.role = role


async def check_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("X-CSRF-Token")
    if sent is None:
        value = (await request.form()).get("csrf_token")
        sent = value if isinstance(value, str) else None
    signing_in = request.scope.get("endpoint") is login
    expected = _login_token(request) if signing_in else _session_token(request)
    if _cross_site(request) or not sent or not expected:
        raise CsrfError
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError
    request.state.console_csrf = sent


def _session_token(request: Request) -> str | None:
    session = cookies.read(request, SESSION_COOKIE)
    return staff.csrf_token(session) if session else None


def _login_nonce(request: Request) -> str | None:
    """The sign-in form's nonce, if this visitor's cookie is one the server issued."""
    return cookies.unsign(request, LOGIN_NONCE, cookies.read(request, LOGIN_COOKIE))


def _login_token(request: Request) -> str | None:
    nonce = _login_nonce(request)
    return cookies.mac(request, LOGIN_FORM, nonce) if nonce else None


def _cross_site(request: Request) -> bool:
    """Sent by a page of another site (a sibling subdomain included), as far as the browser says."""
    if request.headers.get("Sec-Fetch-Site") in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("Origin")
    public = urlsplit(state.of(request).services.settings.web.public_url or "")
    own = {f"{request.url.scheme}://{request.url.netloc}", f"{public.scheme}://{public.netloc}"}
    return origin is not None and origin not in own


async def require_staff(request: Request, services: ServicesDep) -> StaffUser:
    token = cookies.read(request, SESSION_COOKIE)
    session = await staff.current_session(services, token) if token else None
    if token is None or session is None:
        raise SignInRequiredError
    request.state.staff = session.user
    request.state.console_csrf = staff.csrf_token(token)
    return session.user


StaffDep = Annotated[StaffUser, Depends(require_staff)]


def require_role(role: Role) -> Callable[[StaffUser], Awaitable[StaffUser]]:
    """A dependency that lets through users of this role or a higher one (admin > agent)."""

    async def check(user: StaffDep) -> StaffUser:
        if RANK[user.role] < RANK[role]:
            raise RoleRequiredError(role)
        return user

    check.required_role = role  # type: ignore[attr-defined]  # read by the route-enumerating tests
    return check


def safe_next(target: str | None) -> str:
    """Where to go after sign-in: only a path inside the console, never another site."""
    if not target or not target.startswith(HOME) or "\\" in target or any(ord(c) < 33 for c in target):
        return HOME
    parts = urlsplit(target)
    return HOME if parts.scheme or parts.netloc else target


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("/login")
async def login_form(request: Request, services: ServicesDep, next: str = HOME) -> Response:
    token = cookies.read(request, SESSION_COOKIE)
    if token and await staff.current_session(services, token):
        return RedirectResponse(safe_next(next), status_code=303)
    nonce = _login_nonce(request) or secrets.token_urlsafe(32)
    request.state.console_csrf = cookies.mac(request, LOGIN_FORM, nonce)
    response = render(request, "login.html", next=safe_next(next), username="", error=None)
    signed = cookies.sign(request, LOGIN_NONCE, nonce)
    cookies.write(request, response, LOGIN_COOKIE, signed, path=LOGIN, age=24 * 3600)
    return response


@router.post("/login")
async def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = HOME,
) -> Response:
    result = await staff.sign_in(services, username, password, _client_ip(request))
    if isinstance(result, staff.Throttled):
        wait = result.retry_at - services.clock.now()
        minutes = max(1, math.ceil(wait.total_seconds() / 60))
        page = render(request, "throttled.html", status_code=429, minutes=minutes)
        page.headers["Retry-After"] = str(max(1, math.ceil(wait.total_seconds())))
        return page
    if isinstance(result, staff.Refused):
        error = "Wrong username or password."
        return render(request, "login.html", next=safe_next(next), username=username[:64], error=error)
    response = RedirectResponse(safe_next(next), status_code=303)
    hours = services.settings.console.session_hours
    cookies.write(request, response, SESSION_COOKIE, result.token, path=PREFIX, age=hours * 3600)
    cookies.forget(request, response, LOGIN_COOKIE, path=LOGIN)
    return response


@router.post("/logout")
async def logout(request: Request, services: ServicesDep) -> Response:
    token = cookies.read(request, SESSION_COOKIE)
    if token:
        session = await staff.current_session(services, token)
        await staff.sign_out(services, token, session.user if session else None, _client_ip(request))
    response = RedirectResponse(LOGIN, status_code=303)
    cookies.forget(request, response, SESSION_COOKIE, path=PREFIX)
    return response


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequiredError)
    async def _sign_in(request: Request, _: SignInRequiredError) -> Response:
        if request.method in SAFE_METHODS:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse(f"{LOGIN}?{urlencode({'next': here})}", status_code=303)
        return render(request, "message.html", 401, title="Signed out", text="Sign in again, then retry.")

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, _: CsrfError) -> Response:
        text = "This form was not sent from a current console page. Reload the page and try again."
        return render(request, "message.html", 403, title="Form refused", text=text)

    @app.exception_handler(RoleRequiredError)
    async def _role(request: Request, exc: RoleRequiredError) -> Response:
        text = f"This page is for the {exc.role} role; ask an admin if you need it."
        return render(request, "message.html", 403, title="Not allowed", text=text)
