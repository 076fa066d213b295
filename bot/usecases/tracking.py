"""The recipient's page (/t/{token}): what it shows, and what the recipient can do there.

A link opens its delivery's page while the link is not revoked and the parcel is open, or until
`web.link_days` after its window; anything else (forged, revoked, expired) is `None`, and the page
says only that the link does not work. The actions are the chat's verbs (bot/usecases/verbs), acted
by the recipient: confirm, take another time (one the route can honour, offered as in the chat; the
recipient then gets the new window on their channel, as when they move it by SMS), where to leave it,
the access code (never shown back); after delivery, a rating with a comment, or "I did not get it";
and at any time a message to support.

Once the van is out the page shows the narrowed window and the stops before this one, from this
process's snapshot of the road (bot/usecases/on_the_road.py), and the van itself only near: within
`web.van_within_stops` stops or `web.van_within_minutes` minutes of this stop, from a position the van
reported in the last `VAN_FRESH` (never a stop it was last seen at: that is another recipient's door),
and never once this stop is done.
"""

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import WebSettings
from bot.domain.access_codes import hide_codes
from bot.domain.deliveries import OPEN, Delivery, Status
from bot.domain.promises import Promise
from bot.services import Services
from bot.store import deliveries as delivery_store
from bot.store import events, links, outbox, photos
from bot.store import promises as promise_store
from bot.usecases import support, verbs
from bot.usecases.on_the_road import Ahead
from bot.usecases.rescheduling import Slot
from bot.usecases.verbs import Refused
from bot.usecases.verbs import confirm as confirm_verb
from bot.usecases.verbs import instructions as instructions_verb
from bot.usecases.verbs import rate as rate_verb
from bot.usecases.verbs import reschedule as reschedule_verb
from bot.usecases.verbs import support as support_verb
from eta.geo import LatLon

# What the page's timeline shows of a delivery's events (the rest is for staff).
SHOWN = {
    "delivery.planned": "Planned",
    "delivery.confirmed": "You confirmed the time",
    "delivery.rescheduled": "Time changed",
    "delivery.instructions": "Delivery instructions saved",
    "delivery.access_code": "Access code saved",
    "delivery.out_for_delivery": "Out for delivery",
    "delivery.delivered": "Delivered",
    "delivery.failed": "Delivery attempt failed",
}


@dataclass(frozen=True, slots=True)
class Moment:
    at: datetime
    what: str


@dataclass(frozen=True, slots=True)
class Said:
    at: datetime
    by_them: bool  # False: support's answer
    text: str


@dataclass(frozen=True, slots=True)
class Van:
    at: LatLon
    seen: datetime  # when it reported that position


@dataclass(frozen=True, slots=True)
class Page:
    delivery: Delivery
    promise: Promise | None
    instructions: str  # as the driver reads them, any code in them hidden
    timeline: list[Moment]  # oldest first
    changeable: bool  # the time and the instructions may still be changed
    # Once the van is out: the narrowed window (as the out-for-delivery message gives it, from the route
    # as it is now) and how many stops come before this one; the van only when it is near.
    live: tuple[datetime, datetime] | None = None
    stops_before: int | None = None
    van: Van | None = None
    # The windows the recipient was told, oldest first: how the window changed.
    told: tuple[Promise, ...] = ()
    # What they wrote from the page and what support answered, oldest first.
    thread: tuple[Said, ...] = ()
    # After delivery: the newest photo's id (the page links to /t/{token}/photo) and the driver's note.
    photo_id: int | None = None
    driver_note: str = ""

    @property
    def home(self) -> LatLon:
        """Where the parcel goes (the recipient's own address)."""
        return LatLon(self.delivery.lat, self.delivery.lon)

    @property
    def window(self) -> tuple[datetime, datetime]:
        if self.promise is not None:
            return self.promise.start, self.promise.end
        return self.delivery.window_start, self.delivery.window_end


async def open_page(services: Services, token: str) -> Page | None:
    """The page behind `token`, or None for a link that does not work (nothing said of why)."""
    async with services.store.read() as conn:
        delivery = await _delivery(services, conn, token)
        return await _page(services, conn, delivery) if delivery is not None else None


async def page_of(services: Services, delivery_id: int) -> Page | None:
    """The page as the recipient of `delivery_id` sees it, for support staff (no link needed)."""
    async with services.store.read() as conn:
        delivery = await delivery_store.get(conn, delivery_id)
        return await _page(services, conn, delivery) if delivery is not None else None


async def _page(services: Services, conn: AsyncConnection, delivery: Delivery) -> Page:
    work = await verbs.work(services, conn, delivery)
    log = await events.for_delivery(conn, delivery.id)
    shown = [Moment(e.at, SHOWN[e.kind]) for e in log if e.kind in SHOWN]
    instructions = hide_codes(delivery.safe_drop or "", delivery.access_code)
    told = tuple(await promise_store.told_history(conn, delivery.id))
    theirs = [Said(e.at, True, str(e.data.get("text", ""))) for e in log if e.kind == WROTE]
    ours = [Said(at, False, text) for at, text in await outbox.staff_replies(conn, delivery.id)]
    thread = tuple(sorted(theirs + ours, key=lambda said: said.at))
    page = Page(
        delivery,
        work.promise,
        instructions,
        shown,
        verbs.unchangeable(work) is None,
        told=told,
        thread=thread,
    )
    if delivery.status is Status.DELIVERED:
        notes = [str(e.data.get("note", "")) for e in log if e.kind == "delivery.delivered"]
        note = hide_codes(notes[-1], delivery.access_code) if notes else ""
        return replace(page, photo_id=await photos.latest_id(conn, delivery.id), driver_note=note)
    if delivery.status not in ON_ITS_WAY:
        return page
    ahead = await services.road().ahead(conn, delivery.date, delivery.id, work.now)
    return _on_the_road(services, page, ahead, work.now)


async def glance(services: Services, delivery: Delivery, marker: int) -> tuple[Page, int] | None:
    """What changes on `delivery`'s page (status, window, live window, stops before, the van), from this
    process's snapshot of the day as of event `marker` or later, and the snapshot's marker: no query
    unless the snapshot must be made again. The timeline, instructions and actions are left out. None
    when the parcel is not in its day's plan (open the page instead)."""
    now = services.clock.now()
    snapshot = await services.road().snapshot(services.store.read, delivery.date, marker, now)
    current = snapshot.deliveries.get(delivery.id)
    if current is None:
        return None
    page = Page(current, snapshot.promises.get(delivery.id), "", [], changeable=False)
    ahead = snapshot.ahead.get(delivery.id) if current.status in ON_ITS_WAY else None
    return _on_the_road(services, page, ahead, now), snapshot.marker


def _on_the_road(services: Services, page: Page, ahead: Ahead | None, now: datetime) -> Page:
    if ahead is None:
        return page
    van = Van(ahead.van, ahead.van_seen) if ahead.van and ahead.van_seen else None
    van_shown = near(services.settings.web, ahead.stops_before, ahead.arrival, van, now)
    return replace(page, live=ahead.window, stops_before=ahead.stops_before, van=van if van_shown else None)


ON_ITS_WAY = frozenset({Status.OUT_FOR_DELIVERY, Status.ARRIVED})
VAN_FRESH = timedelta(minutes=10)  # an older position is not shown: the van may be anywhere by now


def near(web: WebSettings, stops_before: int, arrival: datetime, van: Van | None, now: datetime) -> bool:
    """Whether the van may be shown: a fresh position, and this stop a few stops or minutes away."""
    if van is None or not timedelta(0) <= now - van.seen <= VAN_FRESH:
        return False
    return stops_before < web.van_within_stops or arrival - now <= timedelta(minutes=web.van_within_minutes)


async def _delivery(services: Services, conn: AsyncConnection, token: str) -> Delivery | None:
    link = await links.find(conn, token)
    if link is None or link.revoked_at is not None:
        return None
    delivery = await delivery_store.get(conn, link.delivery_id)
    if delivery is None:
        return None
    lasts = timedelta(days=services.settings.web.link_days)
    done = delivery.status not in OPEN and delivery.status is not Status.FAILED
    if done and services.clock.now() > delivery.window_end + lasts:
        return None
    return delivery


async def photo(services: Services, token: str) -> photos.Photo | None:
    """The delivered parcel's newest photo, for its page's link (None: no photo, or not delivered)."""
    async with services.store.read() as conn:
        delivery = await _delivery(services, conn, token)
        if delivery is None or delivery.status is not Status.DELIVERED:
            return None
        return await photos.latest(conn, delivery.id)


async def confirm(services: Services, token: str) -> Refused | None:
    """The recipient confirms the window; None when it worked. LinkGoneError: the link does not work."""
    async with services.store.tx() as conn:
        work = await _work(services, conn, token)
        done = await confirm_verb.confirm(work)
        return done if isinstance(done, Refused) else None


async def times(services: Services, token: str) -> list[Slot] | Refused:
    """The times this delivery can move to now (as the chat offers them)."""
    async with services.store.read() as conn:
        return await reschedule_verb.offer(await _work(services, conn, token))


async def take(services: Services, token: str, slot: Slot) -> Promise | Refused:
    """Move the delivery to `slot` (checked against the route as it is now); the recipient hears the new
    window on their channel, the driver gets the changed stop."""
    async with services.store.tx() as conn:
        work = await _work(services, conn, token)
        moved = await reschedule_verb.move(work, slot)
        if isinstance(moved, Refused):
            return moved
        await support.tell_rescheduled(services, conn, work.delivery, moved.promise, work.now)
        return moved.promise


async def instruct(services: Services, token: str, place: str) -> Refused | None:
    """Where to leave it, in the recipient's words (the driver reads them at once)."""
    async with services.store.tx() as conn:
        saved = await instructions_verb.instruct(await _work(services, conn, token), place)
        return saved if isinstance(saved, Refused) else None


async def give_code(services: Services, token: str, code: str) -> Refused | None:
    """The access code for the driver's stop card (never shown back, never logged). ValueError: not a code."""
    code = code.strip().upper()
    if not support.ACCESS_CODE.fullmatch(code):
        raise ValueError("not an access code")
    async with services.store.tx() as conn:
        saved = await instructions_verb.instruct(await _work(services, conn, token), code=code)
        return saved if isinstance(saved, Refused) else None


async def rate(services: Services, token: str, stars: int, comment: str = "") -> Refused | None:
    """1-5 stars after delivery, with what they add; a low one reaches support."""
    async with services.store.tx() as conn:
        rated = await rate_verb.rate(await _work(services, conn, token), stars, comment.strip())
        return rated if isinstance(rated, Refused) else None


async def not_received(services: Services, token: str) -> None:
    """Marked delivered, but they do not have it: support looks into it."""
    async with services.store.tx() as conn:
        await support_verb.report_not_received(await _work(services, conn, token))


async def write(services: Services, token: str, text: str) -> None:
    """A question or a request in their words: support reads it on the queue and the delivery's
    timeline, and answers from the console on the recipient's channel; the page shows the thread."""
    async with services.store.tx() as conn:
        work = await _work(services, conn, token)
        await support_verb.ask_for_person(work, f"on their page: {text[:500]}")
        await verbs.log(work, WROTE, {"text": text[:1000], "on": "page"})


WROTE = "delivery.wrote"  # what a recipient wrote to support from their page


class LinkGoneError(LookupError):
    """The link stopped working (revoked, expired) between showing the page and acting on it."""


async def _work(services: Services, conn: AsyncConnection, token: str) -> verbs.Work:
    delivery = await _delivery(services, conn, token)
    if delivery is None:
        raise LinkGoneError("this link does not work")
    return await verbs.work(services, conn, delivery)
