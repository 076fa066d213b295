"""The recipient's page, /t/{token}: server-rendered, no script, plain forms (bot/usecases/tracking.py).

A link that does not work (forged, revoked, expired, not a token at all) gets the same 404 page,
which says nothing of any parcel. Forms carry a token bound to the link (an HMAC under the process's
key), so a form from another page cannot act; after an action the page says what happened with a
fixed text chosen by a code in the query, never with words from the request. No third-party origin:
the Content-Security-Policy allows none, and the referrer (the link is the key) is never sent.
"""

import hashlib
import hmac
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.notify import format as fmt
from bot.notify import phrases
from bot.notify.kinds import Channel
from bot.usecases import tracking
from bot.usecases.rescheduling import Slot
from bot.usecases.verbs import Refused
from bot.web import state
from bot.web.deps import ServicesDep

router = APIRouter(include_in_schema=False)
TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "track"
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex",
}
# What the page says after an action: ?said=<code>, never the request's words.
SAID = {
    "confirmed": "Thanks, the driver knows you expect them.",
    "moved": "Done: your parcel comes at the new time below. We have sent it to you as well.",
    "instructed": "Saved: the driver will read your instructions.",
}
REFUSED = {
    "done": "It has been delivered already.",
    "closed": "This delivery is closed.",
    "cutoff": "The window starts too soon to change it now.",
    "taken": "That time is no longer free: choose another.",
    "expired": "This page was open too long: please try again.",
    "empty": "Write where to leave it first.",
}


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters["local"] = lambda moment: moment.strftime("%a %H:%M")
    return env


_ENV = _environment()


def _html(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_ENV.get_template(template).render(**context), status_code, headers=HEADERS)


def _gone(brand: str) -> HTMLResponse:
    return _html("gone.html", 404, brand=brand)


def _csrf(request: Request, token: str) -> str:
    key = state.of(request).console_cookie_key
    return hmac.new(key, f"track\x00{token}".encode(), hashlib.sha256).hexdigest()


def _forged(request: Request, token: str, sent: str) -> bool:
    return not hmac.compare_digest(_csrf(request, token), sent)


def _back(token: str, said: str) -> RedirectResponse:
    return RedirectResponse(f"/t/{token}?said={said}", status_code=303, headers=HEADERS)


@router.get("/t/{token}")
async def page(request: Request, services: ServicesDep, token: str, said: str = "") -> Response:
    brand = services.settings.messages.brand
    found = await tracking.open_page(services, token)
    if found is None:
        return _gone(brand)
    delivery, (start, end) = found.delivery, found.window
    zone = ZoneInfo(delivery.timezone)
    refused = said.startswith("refused-")
    told = REFUSED.get(said.removeprefix("refused-")) if refused else SAID.get(said)
    return _html(
        "page.html",
        brand=brand,
        name=delivery.name.split(" ")[0],
        order_id=delivery.order_id,
        day=fmt.day(fmt.local_date(start, zone), delivery.locale),
        window=fmt.window(start, end, zone, Channel.TELEGRAM),
        status=phrases.pick(phrases.STATUS, delivery.locale)[delivery.status],
        changeable=found.changeable,
        confirmed=delivery.confirmed_at is not None,
        instructions=found.instructions,
        timeline=[tracking.Moment(m.at.astimezone(zone), m.what) for m in found.timeline],
        said=told,
        refused=refused,
        base=f"/t/{token}",
        csrf=_csrf(request, token),
    )


@router.post("/t/{token}/confirm")
async def confirm(
    request: Request, services: ServicesDep, token: str, csrf: Annotated[str, Form()] = ""
) -> Response:
    if _forged(request, token, csrf):
        return _back(token, "refused-expired")
    try:
        refused = await tracking.confirm(services, token)
    except LookupError:
        return _gone(services.settings.messages.brand)
    return _back(token, f"refused-{refused.reason}" if refused else "confirmed")


@router.get("/t/{token}/times")
async def times(request: Request, services: ServicesDep, token: str) -> Response:
    brand = services.settings.messages.brand
    found = await tracking.open_page(services, token)
    if found is None:
        return _gone(brand)
    offered = await tracking.times(services, token)
    zone, locale = found.delivery.timezone, found.delivery.locale
    windows = [] if isinstance(offered, Refused) else [(s.start, s.end) for s in offered]
    labelled = fmt.slots(windows, zone, locale, Channel.TELEGRAM)
    none = REFUSED.get(offered.reason, "") if isinstance(offered, Refused) else "No other time is free now."
    return _html(
        "times.html",
        brand=brand,
        times=labelled,
        none=none,
        base=f"/t/{token}",
        csrf=_csrf(request, token),
    )


@router.post("/t/{token}/times")
async def take(
    request: Request,
    services: ServicesDep,
    token: str,
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if _forged(request, token, csrf):
        return _back(token, "refused-expired")
    try:
        slot = Slot(datetime.fromisoformat(start), datetime.fromisoformat(end))
    except ValueError:
        return _back(token, "refused-taken")
    if slot.start.tzinfo is None or slot.end.tzinfo is None:
        return _back(token, "refused-taken")
    try:
        moved = await tracking.take(services, token, slot)
    except LookupError:
        return _gone(services.settings.messages.brand)
    return _back(token, f"refused-{moved.reason}" if isinstance(moved, Refused) else "moved")


@router.post("/t/{token}/instructions")
async def instructions(
    request: Request,
    services: ServicesDep,
    token: str,
    place: Annotated[str, Form(max_length=500)] = "",
    csrf: Annotated[str, Form()] = "",
) -> Response:
    if _forged(request, token, csrf):
        return _back(token, "refused-expired")
    if not place.strip():
        return _back(token, "refused-empty")
    try:
        refused = await tracking.instruct(services, token, place)
    except LookupError:
        return _gone(services.settings.messages.brand)
    return _back(token, f"refused-{refused.reason}" if refused else "instructed")
