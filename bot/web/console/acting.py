"""Staff acting for a recipient (reply, pause, reschedule, instructions) and the escalation queue.

Every action redirects (303) back with a flash message; refused input shows the form again with the
reason, and changes nothing. The forms live in console/delivery_actions.html, which the delivery page
includes; console/act.html shows them on their own when an action has to be corrected.
"""

from datetime import datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import RedirectResponse

from bot.channels import registry
from bot.console import queue as queue_view
from bot.console import timeline
from bot.notify import format as fmt
from bot.notify.kinds import Channel
from bot.store import deliveries as delivery_store
from bot.store import staff as staff_store
from bot.usecases import support, tracking
from bot.usecases.errors import ConflictError, NotFoundError, UseCaseError
from bot.usecases.rescheduling import Slot
from bot.web import track
from bot.web.console.auth import StaffDep, safe_next
from bot.web.console.privacy import View
from bot.web.console.templates import flash, render
from bot.web.deps import ServicesDep

router = APIRouter()
QUEUE = "/console/queue"
FormText = Annotated[str, Form()]


def delivery_page(delivery_id: int) -> str:
    return f"/console/deliveries/{delivery_id}"


def _status(exc: UseCaseError) -> int:
    return 404 if isinstance(exc, NotFoundError) else 409 if isinstance(exc, ConflictError) else 422


def _back(request: Request, text: str, next_url: str, default: str) -> Response:
    """303 to `next_url` (a console path only) or `default`, with `text` shown there."""
    to = RedirectResponse(safe_next(next_url) if next_url else default, status_code=303)
    return flash(request, to, text)


async def _again(
    request: Request, services: ServicesDep, delivery_id: int, exc: UseCaseError, **typed: str
) -> Response:
    """The delivery's forms again, with the reason and what was typed."""
    async with services.store.read() as conn:
        found = await timeline.timeline(conn, delivery_id)
    if found is None:
        return render(request, "message.html", 404, title="Not found", text=exc.message)
    acting = {"error": exc.message, "field": exc.field, **typed}
    view = View(code=found.header.access_code)
    return render(request, "act.html", _status(exc), delivery=found.header, acting=acting, view=view)


@router.post("/deliveries/{delivery_id}/reply")
async def reply(
    request: Request,
    services: ServicesDep,
    user: StaffDep,
    delivery_id: int,
    text: FormText = "",
    nonce: FormText = "",
    next: FormText = "",
) -> Response:
    try:
        sent = await support.reply(services, user, delivery_id, text, nonce)
    except UseCaseError as exc:
        return await _again(request, services, delivery_id, exc, text=text[: support.MAX_REPLY * 2])
    said = (
        "That reply was sent already."
        if sent.again
        else f"Reply queued on {registry.get(sent.channel).label}."
    )
    return _back(request, said, next, delivery_page(delivery_id))


@router.post("/deliveries/{delivery_id}/pause")
async def pause(
    request: Request, services: ServicesDep, user: StaffDep, delivery_id: int, next: FormText = ""
) -> Response:
    try:
        held = await support.pause(services, user, delivery_id)
    except UseCaseError as exc:
        return await _again(request, services, delivery_id, exc)
    said = "Automated messages paused" + (f"; {held} queued ones held." if held else ".")
    return _back(request, said, next, delivery_page(delivery_id))


@router.post("/deliveries/{delivery_id}/resume")
async def resume(
    request: Request, services: ServicesDep, user: StaffDep, delivery_id: int, next: FormText = ""
) -> Response:
    try:
        released = await support.resume(services, user, delivery_id)
    except UseCaseError as exc:
        return await _again(request, services, delivery_id, exc)
    said = "Automated messages resumed" + (f"; {released} held ones queued again." if released else ".")
    return _back(request, said, next, delivery_page(delivery_id))


@router.get("/deliveries/{delivery_id}/slots")
async def slots(request: Request, services: ServicesDep, user: StaffDep, delivery_id: int) -> Response:
    return await _slots_page(request, services, delivery_id)


async def _slots_page(
    request: Request, services: ServicesDep, delivery_id: int, error: str | None = None, status: int = 200
) -> Response:
    async with services.store.read() as conn:
        found = await timeline.timeline(conn, delivery_id)
    if found is None:
        text = f"There is no delivery {delivery_id}."
        return render(request, "message.html", 404, title="Not found", text=text)
    offer = await support.slots(services, delivery_id)
    zone = ZoneInfo(found.header.timezone)
    choices = [(_slot_value(s), _slot_label(s, zone)) for s in offer.slots]
    return render(
        request,
        "slots.html",
        status,
        delivery=found.header,
        choices=choices,
        error=error,
        version=offer.version,
    )


def _slot_value(slot: Slot) -> str:
    return f"{slot.start.isoformat()}|{slot.end.isoformat()}"


def _slot_label(slot: Slot, zone: ZoneInfo) -> str:
    day = fmt.day(fmt.local_date(slot.start, zone.key), "en")
    return f"{day} {fmt.window(slot.start, slot.end, zone.key, Channel.TELEGRAM)}"


def _parse_slot(value: str) -> Slot | None:
    try:
        start, end = (datetime.fromisoformat(part) for part in value.split("|"))
    except ValueError:
        return None
    return Slot(start, end) if start.tzinfo and end.tzinfo and start < end else None


@router.post("/deliveries/{delivery_id}/reschedule")
async def reschedule(
    request: Request,
    services: ServicesDep,
    user: StaffDep,
    delivery_id: int,
    slot: FormText = "",
    version: FormText = "",  # the promise version the times were offered against
    next: FormText = "",
) -> Response:
    chosen = _parse_slot(slot)
    if chosen is None or not version.isdecimal():
        said = "Pick one of the times offered." if version.isdecimal() else "Pick again from the times below."
        return await _slots_page(request, services, delivery_id, said, 422)
    try:
        promise = await support.reschedule(services, user, delivery_id, chosen, int(version))
    except NotFoundError as exc:
        return render(request, "message.html", 404, title="Not found", text=exc.message)
    except UseCaseError as exc:
        return await _slots_page(request, services, delivery_id, exc.message, _status(exc))
    label = _slot_label(Slot(promise.start, promise.end), ZoneInfo(await _zone(services, delivery_id)))
    return _back(request, f"Moved to {label}; the recipient is told.", next, delivery_page(delivery_id))


async def _zone(services: ServicesDep, delivery_id: int) -> str:
    async with services.store.read() as conn:
        found = await delivery_store.get(conn, delivery_id)
    return found.timezone if found else "UTC"


@router.post("/deliveries/{delivery_id}/instructions")
async def instructions(
    request: Request,
    services: ServicesDep,
    user: StaffDep,
    delivery_id: int,
    safe_drop: FormText = "",
    access_code: FormText = "",
    next: FormText = "",
) -> Response:
    try:
        noted = await support.instructions(services, user, delivery_id, safe_drop, access_code)
    except UseCaseError as exc:
        # The code typed is not shown again: an agent may not see codes (admins reveal them elsewhere).
        return await _again(request, services, delivery_id, exc, safe_drop=safe_drop[:1000])
    said = "Instructions saved" + ("; the driver gets a note." if noted else " (not on a route yet).")
    return _back(request, said, next, delivery_page(delivery_id))


@router.get("/deliveries/{delivery_id}/recipient-page")
async def recipient_page(
    request: Request, services: ServicesDep, user: StaffDep, delivery_id: int
) -> Response:
    """The recipient's page as they see it, read-only (no link is made for it)."""
    found = await tracking.page_of(services, delivery_id)
    if found is None:
        return render(
            request, "message.html", 404, title="Not found", text=f"There is no delivery {delivery_id}."
        )
    return track.render_page(request, services, found, token=None)


@router.post("/deliveries/{delivery_id}/revoke-links")
async def revoke_links(
    request: Request, services: ServicesDep, user: StaffDep, delivery_id: int, next: FormText = ""
) -> Response:
    try:
        revoked = await support.revoke_links(services, user, delivery_id)
    except UseCaseError as exc:
        return await _again(request, services, delivery_id, exc)
    said = f"{revoked} link{'s' if revoked != 1 else ''} to the recipient's page revoked."
    return _back(request, said, next, delivery_page(delivery_id))


QUEUE_PAGE = 50  # items a page, oldest first


@router.get("/queue")
async def queue(request: Request, services: ServicesDep, user: StaffDep, page: int = 1) -> Response:
    return await _queue_page(request, services, page=page)


async def _queue_page(
    request: Request, services: ServicesDep, error: str | None = None, status: int = 200, page: int = 1
) -> Response:
    now = services.clock.now()
    sla = services.settings.console.answer_sla_minutes
    async with services.store.read() as conn:
        items = await queue_view.queue(conn, now, sla)
        names = {u.id: u.username for u in await staff_store.list_users(conn)}
        parked = await queue_view.parked(conn)
    pages = max(1, -(-len(items) // QUEUE_PAGE))
    page = min(max(page, 1), pages)
    shown = items[(page - 1) * QUEUE_PAGE : page * QUEUE_PAGE]
    rows = [(item, _age(now - item.since), names.get(item.assigned_to or 0), _detail(item)) for item in shown]
    return render(
        request, "queue.html", status, rows=rows, sla=sla, error=error, page=page, pages=pages,
        total=len(items), first=(page - 1) * QUEUE_PAGE + 1, overdue=sum(i.overdue for i in items),
        parked=parked,
    )  # fmt: skip


def _detail(item: queue_view.Item) -> str:
    """What the item says, the delivery's access code blotted out (a reply not understood may quote it)."""
    return View(code=item.access_code).text(item.detail)


def _age(waited: timedelta) -> str:
    minutes = int(waited.total_seconds() // 60)
    if minutes < 60:
        return f"{minutes} min"
    if minutes < 24 * 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes // (24 * 60)} d"


@router.post("/escalations/{escalation_id}/assign")
async def assign(request: Request, services: ServicesDep, user: StaffDep, escalation_id: int) -> Response:
    try:
        await support.assign_to_me(services, user, escalation_id)
    except UseCaseError as exc:
        return await _queue_page(request, services, exc.message, _status(exc))
    return _back(request, "It is yours now.", "", QUEUE)


@router.post("/escalations/{escalation_id}/resolve")
async def resolve(
    request: Request, services: ServicesDep, user: StaffDep, escalation_id: int, note: FormText = ""
) -> Response:
    try:
        await support.resolve(services, user, escalation_id, note)
    except UseCaseError as exc:
        return await _queue_page(request, services, exc.message, _status(exc))
    return _back(request, "Resolved.", "", QUEUE)


@router.post("/escalations/{escalation_id}/answer")
async def answer(
    request: Request,
    services: ServicesDep,
    user: StaffDep,
    escalation_id: int,
    text: FormText = "",
    nonce: FormText = "",
) -> Response:
    try:
        sent = await support.answer(services, user, escalation_id, text, nonce)
    except UseCaseError as exc:
        return await _queue_page(request, services, exc.message, _status(exc))
    said = (
        "That answer was sent already." if sent.again else f"Answered on {registry.get(sent.channel).label}."
    )
    return _back(request, said, "", QUEUE)
