"""Console sign-in and sign-out, and the dependencies every console route stands behind.

- `check_csrf` (on the whole /console router): an unsafe request must carry the form token of the
  visitor's session cookie, or of the sign-in form's own cookie, as `csrf_token` or `X-CSRF-Token`.
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

from bot.services import Services
from bot.store.staff import Role, StaffUser
from bot.usecases import staff
from bot.web.console.templates import render
from bot.web.deps import ServicesDep

PREFIX = "/console"
HOME = PREFIX + "/"
LOGIN = PREFIX + "/login"
SESSION_COOKIE = "doorstep_session"
LOGIN_COOKIE = "doorstep_login"  # the sign-in form's CSRF secret, before there is a session
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
    secrets_sent = (request.cookies.get(SESSION_COOKIE), request.cookies.get(LOGIN_COOKIE))
    expected = [staff.csrf_token(s) for s in secrets_sent if s]
    if not sent or not any(hmac.compare_digest(sent, e) for e in expected):
        raise CsrfError
    request.state.console_csrf = sent


async def require_staff(request: Request, services: ServicesDep) -> StaffUser:
    token = request.cookies.get(SESSION_COOKIE)
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


def _set_cookie(response: Response, services: Services, name: str, value: str, path: str, age: int) -> None:
    secure = (services.settings.web.public_url or "").startswith("https://")
    response.set_cookie(name, value, max_age=age, path=path, secure=secure, httponly=True, samesite="lax")


@router.get("/login")
async def login_form(request: Request, services: ServicesDep, next: str = HOME) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token and await staff.current_session(services, token):
        return RedirectResponse(safe_next(next), status_code=303)
    nonce = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    request.state.console_csrf = staff.csrf_token(nonce)
    response = render(request, "login.html", next=safe_next(next), username="", error=None)
    _set_cookie(response, services, LOGIN_COOKIE, nonce, LOGIN, age=24 * 3600)
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
    _set_cookie(response, services, SESSION_COOKIE, result.token, PREFIX, age=hours * 3600)
    response.delete_cookie(LOGIN_COOKIE, path=LOGIN)
    return response


@router.post("/logout")
async def logout(request: Request, services: ServicesDep) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        session = await staff.current_session(services, token)
        await staff.sign_out(services, token, session.user if session else None, _client_ip(request))
    response = RedirectResponse(LOGIN, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path=PREFIX)
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
