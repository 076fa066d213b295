"""The recipient's page, /t/{token}: server-rendered, plain forms (bot/usecases/tracking.py).

It works without script (a refresh shows what changed); with it, `live.js` listens on
/t/{token}/live (server-sent events: the page's data feed, sent again whenever the day changes, as
/t/{token}/feed gives it once) and updates the window, the status, the stops before and the van.

A link that does not work (forged, revoked, expired, not a token at all) gets the same 404 page,
which says nothing of any parcel. Forms carry a token bound to the link (an HMAC under the process's
key), so a form from another page cannot act; after an action the page says what happened with a
fixed text chosen by a code in the query, never with words from the request. No third-party origin:
the Content-Security-Policy allows none, and the referrer (the link is the key) is never sent.
"""

import asyncio
import functools
import hashlib
import hmac
import json
import re
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)

from bot.domain.deliveries import Status
from bot.notify import catalog, phrases
from bot.notify import format as fmt
from bot.notify.kinds import Channel
from bot.services import Services
from bot.usecases import tracking
from bot.usecases.rescheduling import Slot
from bot.usecases.verbs import Refused
from bot.web import state
from bot.web.console import templates as console_templates
from bot.web.console.templates import SECURITY_HEADERS
from bot.web.deps import ServicesDep


class TooManyError(Exception):
    """Over the page's request limit for this link or this address."""


async def _throttled(request: Request, services: ServicesDep) -> None:
    now, token = services.clock.now(), request.path_params.get("token", "")
    address = request.client.host if request.client else "unknown"
    limits = state.of(request)
    if not limits.page_per_address.allow(address, now) or not limits.page_per_link.allow(token, now):
        raise TooManyError


router = APIRouter(include_in_schema=False, dependencies=[Depends(_throttled)])
assets = APIRouter(include_in_schema=False)  # the page's files and its map: the same for every page
ASSETS = Path(__file__).resolve().parent / "static" / "track"
NODE = Path(__file__).resolve().parents[2] / "node_modules"  # package.json: MapLibre GL JS, pmtiles
ASSET_FILES = {
    "live.js": ASSETS / "live.js",
    "map.js": ASSETS / "map.js",
    "maplibre-gl.js": NODE / "maplibre-gl" / "dist" / "maplibre-gl-csp.js",  # no blob: workers (the CSP)
    "maplibre-gl-worker.js": NODE / "maplibre-gl" / "dist" / "maplibre-gl-csp-worker.js",
    "maplibre-gl.css": NODE / "maplibre-gl" / "dist" / "maplibre-gl.css",
    "pmtiles.js": NODE / "pmtiles" / "dist" / "pmtiles.js",
}
MAP_FILES = ("map.js", "maplibre-gl.js", "maplibre-gl-worker.js", "maplibre-gl.css", "pmtiles.js")
GLYPH_RANGE = re.compile(r"\d{1,5}-\d{1,5}\.pbf")
TEMPLATES = Path(__file__).resolve().parents[1] / "templates" / "track"
# The console's headers (no other origin, not framed, not cached), this origin's scripts, and no referrer:
# the link is the key.
HEADERS = SECURITY_HEADERS | {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; worker-src 'self' blob:; form-action 'self'; frame-ancestors 'none'; "
        "base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}
NOSNIFF = {"X-Content-Type-Options": "nosniff"}
MAP_FILE_HEADERS = {"Cache-Control": "public, max-age=86400"} | NOSNIFF  # tiles and glyphs: OSM's, for anyone
LIVE_PER_LINK = 4  # live streams one link may hold open at once (a few tabs or devices)
LIVE_FOR = 600.0  # seconds a live stream lasts; the browser then opens a new one (EventSource retries)
STILL_HERE = 15.0  # seconds between comments on a quiet stream, so proxies keep it open
# Every text of the page, in English; bot/locales translates them (bot/notify/catalog.py).
SAY = {
    "title": "Your parcel",
    "hello": "Hi {name}, your parcel {order_id}",
    "suits": "Does that suit you?",
    "confirm": "Yes, that suits me",
    "confirmed": "You confirmed this time.",
    "other_time": "Choose another time",
    "where": "Where to leave it",
    "driver_reads": "The driver reads:",
    "where_label": "Tell the driver where to leave it if you are out",
    "save": "Save for the driver",
    "so_far": "So far",
    "earlier": "Earlier:",
    "why_planned": "as planned",
    "why_rescheduled": "your choice",
    "why_late": "we were running late",
    "why_changed": "changed",
    "back": "Back",
    "no_time": "No other time is free now.",
    "gone_title": "This link does not work",
    "gone": "It may have expired. The messages we send you have the latest link; you can also answer them.",
    "sorry": "Sorry: {reason}.",
    "slow_title": "Too many requests",
    "slow": "Please wait a minute and try again.",
    "code": "Access code for the door or gate",
    "code_save": "Save the code",
    "code_note": "Only the driver of this delivery sees it.",
    "delivered": "Delivered.",
    "photo_alt": "Photo of where your parcel was left",
    "driver_note": "The driver's note:",
    "how": "How did we do?",
    "stars": "{n} of 5",
    "comment": "Anything to add? (optional)",
    "send_rating": "Send",
    "rated": "You rated this delivery {n} of 5. Thank you!",
    "missing": "Not there?",
    "missing_button": "I did not get my parcel",
    "live": "On its way: expected {window}",
    "next_stop": "Yours is the next stop.",
    "stops_before": "{n} stops before yours.",
    "one_stop_before": "One stop before yours.",
    "van_near": "The van is nearby.",
    "map_label": "Map: your address and, once it is near, the van",
    "write": "Write to us",
    "write_label": "Your question or request",
    "write_send": "Send to our team",
    "write_note": "A person reads it and answers you by message.",
    "you": "You",
    "us": "Our team",
}
# What the page says after an action: ?said=<code>, never the request's words.
SAID = {
    "confirmed": "Thanks, the driver knows you expect them.",
    "moved": "Done: your parcel comes at the new time below. We have sent it to you as well.",
    "instructed": "Saved: the driver will read your instructions.",
    "coded": "Saved: only the driver will see your access code.",
    "rated": "Thank you for your rating.",
    "reported": "We are looking into it and will get back to you.",
    "written": "Thanks: a person on our team will answer you by message.",
}
# Why the page did nothing: the chat's reasons (phrases.REFUSAL), and the page's own.
REFUSED = {
    "expired": "This page was open too long: please try again.",
    "empty": "Write where to leave it first.",
    "bad_code": "An access code is 2 to 12 letters, digits, # or *.",
    "empty_text": "Write your message first.",
}


def _say(locale: str) -> dict[str, str]:
    return {key: catalog.translate(locale, text) for key, text in SAY.items()}


def _refusal(say: dict[str, str], locale: str, code: str) -> str | None:
    """What the page says for a refusal code (None for a code it does not know: nothing is said)."""
    if code in REFUSED:
        return catalog.translate(locale, REFUSED[code])
    reason = phrases.pick(phrases.REFUSAL, locale).get(code)
    return say["sorry"].format(reason=reason) if reason else None


_ENV = console_templates.make_environment(TEMPLATES)  # HTML, all escaped, strict: as the console's


def _html(template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(_ENV.get_template(template).render(**context), status_code, headers=HEADERS)


def install(app: FastAPI) -> None:
    """Mount the page, with its answers to a client over the limits, a link that stopped working while
    the page was open, and a form that is not this page's."""
    app.include_router(router)
    app.include_router(assets)
    app.add_exception_handler(TooManyError, _too_many)
    app.add_exception_handler(tracking.LinkGoneError, _link_gone)
    app.add_exception_handler(NotThisPageError, _not_this_page)


async def _link_gone(request: Request, exc: Exception) -> Response:
    return _gone(state.of(request).services.settings.messages.brand)


async def _not_this_page(request: Request, exc: Exception) -> Response:
    token = exc.token if isinstance(exc, NotThisPageError) else ""
    return _back(token, "refused-expired")


async def _too_many(request: Request, exc: Exception) -> Response:
    brand = state.of(request).services.settings.messages.brand
    page = _html("slow.html", 429, brand=brand, lang="en", say=SAY)
    page.headers["Retry-After"] = "60"
    return page


def _gone(brand: str) -> HTMLResponse:
    """The same page for every link that does not work: in English, since it names no recipient."""
    return _html("gone.html", 404, brand=brand, lang="en", say=SAY)


class NotThisPageError(Exception):
    """A form that is not this link's page (another page's, or from before a restart)."""

    def __init__(self, token: str) -> None:
        super().__init__("the form is not this page's")
        self.token = token


async def _from_this_page(request: Request, token: str, csrf: Annotated[str, Form()] = "") -> None:
    if _forged(request, token, csrf):
        raise NotThisPageError(token)


FROM_THIS_PAGE = Depends(_from_this_page)


def _said(refused: Refused | None, done: str) -> str:
    """What the page says next: `done`, or why nothing was."""
    return f"refused-{refused.reason}" if refused else done


def _csrf(request: Request, token: str) -> str:
    key = state.of(request).console_cookie_key
    return hmac.new(key, f"track\x00{token}".encode(), hashlib.sha256).hexdigest()


def _forged(request: Request, token: str, sent: str) -> bool:
    return not hmac.compare_digest(_csrf(request, token), sent)


def _back(token: str, said: str) -> RedirectResponse:
    return RedirectResponse(f"/t/{token}?said={said}", status_code=303, headers=HEADERS)


@router.get("/t/{token}")
async def page(request: Request, services: ServicesDep, token: str, said: str = "") -> Response:
    found = await tracking.open_page(services, token)
    if found is None:
        return _gone(services.settings.messages.brand)
    return render_page(request, services, found, token=token, said=said)


def render_page(
    request: Request, services: Services, found: tracking.Page, *, token: str | None, said: str = ""
) -> HTMLResponse:
    """The page of `found`; without a `token` (support staff looking), read-only: no form at all."""
    delivery = found.delivery
    zone = ZoneInfo(delivery.timezone)

    def when(at: datetime) -> dict[str, str]:
        return {
            "iso": at.isoformat(),
            "when": f"{fmt.day(fmt.local_date(at, zone), delivery.locale)} {fmt.clock(at, zone)}",
        }

    refused = said.startswith("refused-")
    say = _say(delivery.locale)
    told = (
        _refusal(say, delivery.locale, said.removeprefix("refused-"))
        if refused
        else catalog.translate(delivery.locale, SAID.get(said, ""))
    )
    return _html(
        "page.html",
        brand=services.settings.messages.brand,
        lang=fmt.locale_chain(delivery.locale)[0],
        say=say,
        hello=say["hello"].format(name=delivery.name.split(" ")[0], order_id=delivery.order_id),
        feed=feed(found, say),
        earlier=_earlier(found, say),
        thread=[
            when(said.at)
            | {"who": say["you"] if said.by_them else say["us"], "mine": said.by_them, "text": said.text}
            for said in found.thread
        ],
        map=map_of(request) if found.live and token else None,
        changeable=found.changeable and token is not None,
        delivered=delivery.status is Status.DELIVERED,
        forms=token is not None,
        rating=delivery.rating,
        confirmed=delivery.confirmed_at is not None,
        photo=f"/t/{token}/photo?v={found.photo_id}" if token and found.photo_id else "",
        driver_note=found.driver_note,
        instructions=found.instructions,
        timeline=[when(m.at) | {"what": catalog.translate(delivery.locale, m.what)} for m in found.timeline],
        said=told or None,
        refused=refused,
        base=f"/t/{token}" if token else "",
        csrf=_csrf(request, token) if token else "",
    )


def _earlier(found: tracking.Page, say: dict[str, str]) -> list[str]:
    """The windows told before the one shown, oldest first, each with why it changed."""
    zone, locale = ZoneInfo(found.delivery.timezone), found.delivery.locale
    now = found.window
    why = {"planned": say["why_planned"], "rescheduled": say["why_rescheduled"], "late": say["why_late"]}
    shown: list[str] = []
    for told in found.told:
        if (told.start, told.end) == now:
            continue
        day = fmt.day(fmt.local_date(told.start, zone), locale)
        window = fmt.window(told.start, told.end, zone, Channel.TELEGRAM)
        shown.append(f"{day}, {window} ({why.get(told.reason, say['why_changed'])})")
    return shown


def feed(found: tracking.Page, say: dict[str, str]) -> dict[str, Any]:
    """What changes while the page is open, with its words in the recipient's language: the page shows
    it, /t/{token}/feed and the live stream send it."""
    delivery, (start, end) = found.delivery, found.window
    zone = ZoneInfo(delivery.timezone)
    window = fmt.window(start, end, zone, Channel.TELEGRAM)  # typographic dashes, as in the chat
    return {
        "status": delivery.status.value,
        "status_text": phrases.pick(phrases.STATUS, delivery.locale)[delivery.status],
        "window": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "text": f"{fmt.day(fmt.local_date(start, zone), delivery.locale)}, {window}",
        },
        "live": (
            {
                "start": found.live[0].isoformat(),
                "end": found.live[1].isoformat(),
                "text": say["live"].format(window=fmt.window(*found.live, zone, Channel.TELEGRAM)),
            }
            if found.live
            else None
        ),
        "stops_before": found.stops_before,
        "stops_text": (
            ""
            if found.stops_before is None
            else say["next_stop"]
            if found.stops_before == 0
            else say["one_stop_before"]
            if found.stops_before == 1
            else say["stops_before"].format(n=found.stops_before)
        ),
        "van": (
            {"lat": found.van.at.lat, "lon": found.van.at.lon, "seen": found.van.seen.isoformat()}
            if found.van
            else None
        ),
        "home": {"lat": found.home.lat, "lon": found.home.lon} if found.live else None,
    }


@router.get("/t/{token}/photo")
async def photo(services: ServicesDep, token: str) -> Response:
    """The delivered parcel's photo (proof of delivery); 404 as for any link that does not work."""
    found = await tracking.photo(services, token)
    if found is None:
        return _gone(services.settings.messages.brand)
    headers = HEADERS | {"Cache-Control": "private, max-age=86400"}
    return Response(found.data, media_type=found.content_type, headers=headers)


@router.get("/t/{token}/feed")
async def feed_once(services: ServicesDep, token: str) -> Response:
    """The page's data, once (what the live stream sends)."""
    found = await tracking.open_page(services, token)
    if found is None:
        return _gone(services.settings.messages.brand)
    return JSONResponse(feed(found, _say(found.delivery.locale)), headers=HEADERS)


@router.get("/t/{token}/live")
async def live(request: Request, services: ServicesDep, token: str) -> Response:
    """The page's data as server-sent events: now, then whenever it changed; "gone" when the link stops
    working (noticed within STILL_HERE seconds). Each stream lasts LIVE_FOR seconds; the browser opens
    the next. A change of the day is read from the process's shared snapshot (bot/usecases/on_the_road.py),
    so hundreds of open pages cost one read of the day, not one each."""
    opened = await tracking.open_page(services, token)
    if opened is None:
        return _gone(services.settings.messages.brand)
    web, began = state.of(request), asyncio.get_running_loop().time()
    # A stream ends within LIVE_FOR (and a beat); one whose end was never seen (a client gone before
    # its first byte) stops counting then.
    open_ = [other for other in web.live_streams.get(token, []) if began - other < LIVE_FOR + STILL_HERE]
    if len(open_) >= LIVE_PER_LINK:
        raise TooManyError
    web.live_streams[token] = [*open_, began]
    pulse, say = web.pulse, _say(opened.delivery.locale)

    async def events() -> Any:
        try:
            async for event in stream():
                yield event
        finally:
            still = web.live_streams.get(token, [])
            if began in still:
                still.remove(began)
            if not still:
                web.live_streams.pop(token, None)

    async def stream() -> Any:
        clock = asyncio.get_running_loop().time
        yield "retry: 3000\n\n"
        sent, seen, until = "", pulse.marker, clock() + LIVE_FOR
        found: tracking.Page | None = opened
        while clock() < until:
            if found is None:
                yield "event: gone\ndata: {}\n\n"
                return
            data = json.dumps(feed(found, say), ensure_ascii=False)
            if data != sent:
                yield f"data: {data}\n\n"
            sent, marker = data, await pulse.wait(seen, STILL_HERE)
            if marker == seen:  # nothing changed for a while: is the link still good? (the whole page)
                yield ": still here\n\n"
                found = await tracking.open_page(services, token)
                continue
            seen = marker  # the day changed: what this page shows, from the process's shared snapshot
            glanced = await tracking.glance(services, opened.delivery, seen)
            found = glanced[0] if glanced else await tracking.open_page(services, token)

    return StreamingResponse(
        events(), media_type="text/event-stream", headers=HEADERS | {"X-Accel-Buffering": "no"}
    )


@assets.get("/track-assets/{name}")
async def asset(name: str) -> Response:
    """The page's scripts and the map's library, from this origin."""
    path = ASSET_FILES.get(name)
    if path is None or not path.is_file():
        return Response(status_code=404)
    return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"} | NOSNIFF)


@assets.get("/map/streets.pmtiles")
async def streets(request: Request) -> Response:
    """The street map (OpenStreetMap data, the same for everyone), in HTTP Range requests."""
    tiles = state.of(request).tiles.file()
    if tiles is None:
        return Response(status_code=404)
    return FileResponse(tiles, headers=MAP_FILE_HEADERS)


@assets.get("/map/fonts/{font}/{glyphs}")
async def fonts(request: Request, font: str, glyphs: str) -> Response:
    """Glyph ranges for the street names (from DOORSTEP_WEB__MAP_GLYPHS)."""
    folder = state.of(request).services.settings.web.map_glyphs
    if folder is None or not GLYPH_RANGE.fullmatch(glyphs) or font not in _fonts(folder):
        return Response(status_code=404)
    path = folder / font / glyphs
    if not path.is_file():
        return Response(status_code=404)
    return FileResponse(path, headers=MAP_FILE_HEADERS)


@functools.cache
def _fonts(folder: Path) -> frozenset[str]:
    """The font names a glyph folder holds (read once: the folder is set at start-up)."""
    return frozenset(p.name for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else frozenset()


@functools.cache
def _map_installed() -> bool:
    """Whether MapLibre GL JS and pmtiles are there (`npm ci`; looked at once)."""
    return all(ASSET_FILES[name].is_file() for name in MAP_FILES)


def map_of(request: Request) -> dict[str, str] | None:
    """What the page's map needs (its tiles, glyphs and font), or None when there is no map: no extract,
    tilemaker missing or still building, or MapLibre not installed (`npm ci`)."""
    web = state.of(request)
    if web.tiles.file() is None or not _map_installed():
        return None
    glyphs = web.services.settings.web.map_glyphs
    fonts = sorted(_fonts(glyphs)) if glyphs else []
    font = PREFERRED_FONT if PREFERRED_FONT in fonts else next(iter(fonts), "")
    return {
        "tiles": "/map/streets.pmtiles",
        "glyphs": "/map/fonts/{fontstack}/{range}.pbf" if font else "",
        "font": font,
    }


PREFERRED_FONT = "Noto Sans Regular"  # for street names, when the glyph folder has it


@router.post("/t/{token}/confirm", dependencies=[FROM_THIS_PAGE])
async def confirm(services: ServicesDep, token: str) -> Response:
    return _back(token, _said(await tracking.confirm(services, token), "confirmed"))


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
    say = _say(locale)
    none = _refusal(say, locale, offered.reason) if isinstance(offered, Refused) else say["no_time"]
    return _html(
        "times.html",
        brand=brand,
        lang=fmt.locale_chain(locale)[0],
        say=say,
        times=labelled,
        none=none,
        base=f"/t/{token}",
        csrf=_csrf(request, token),
    )


@router.post("/t/{token}/times", dependencies=[FROM_THIS_PAGE])
async def take(
    services: ServicesDep,
    token: str,
    start: Annotated[str, Form(max_length=40)] = "",
    end: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    try:
        slot = Slot(datetime.fromisoformat(start), datetime.fromisoformat(end))
    except ValueError:
        return _back(token, "refused-taken")
    if slot.start.tzinfo is None or slot.end.tzinfo is None:
        return _back(token, "refused-taken")
    moved = await tracking.take(services, token, slot)
    return _back(token, _said(moved if isinstance(moved, Refused) else None, "moved"))


@router.post("/t/{token}/instructions", dependencies=[FROM_THIS_PAGE])
async def instructions(
    services: ServicesDep, token: str, place: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    if not place.strip():
        return _back(token, "refused-empty")
    return _back(token, _said(await tracking.instruct(services, token, place), "instructed"))


@router.post("/t/{token}/code", dependencies=[FROM_THIS_PAGE])
async def code(
    services: ServicesDep, token: str, access_code: Annotated[str, Form(max_length=40)] = ""
) -> Response:
    try:
        return _back(token, _said(await tracking.give_code(services, token, access_code), "coded"))
    except ValueError:
        return _back(token, "refused-bad_code")


@router.post("/t/{token}/rating", dependencies=[FROM_THIS_PAGE])
async def rating(
    services: ServicesDep,
    token: str,
    stars: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    return _back(token, _said(await tracking.rate(services, token, stars, comment), "rated"))


@router.post("/t/{token}/missing", dependencies=[FROM_THIS_PAGE])
async def missing(services: ServicesDep, token: str) -> Response:
    await tracking.not_received(services, token)
    return _back(token, "reported")


@router.post("/t/{token}/write", dependencies=[FROM_THIS_PAGE])
async def write(
    services: ServicesDep, token: str, text: Annotated[str, Form(max_length=1000)] = ""
) -> Response:
    if not text.strip():
        return _back(token, "refused-empty_text")
    await tracking.write(services, token, text.strip())
    return _back(token, "written")
