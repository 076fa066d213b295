"""A delivery's page at /console/deliveries/{id}: who and what it is, and everything that happened to it.

Agents see it masked (`privacy.View`); an admin may reveal the phone and access code for one page
view, with a POST that leaves an audit record.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from bot.console import timeline as reading
from bot.console.timeline import Entry, Source
from bot.notify.kinds import KINDS, Audience
from bot.store import audit
from bot.store.staff import StaffUser
from bot.web.console.auth import require_role
from bot.web.console.privacy import View
from bot.web.console.templates import render, window
from bot.web.deps import ServicesDep

router = APIRouter()

AdminDep = Annotated[StaffUser, Depends(require_role("admin"))]
REVEALED = "reveal"  # the audit action
TO_DRIVER = frozenset(kind.value for kind, spec in KINDS.items() if spec.audience is Audience.DRIVER)

EVENT_TITLES = {
    "delivery.created": "Order received",
    "delivery.updated": "Order updated",
    "delivery.planned": "Planned",
    "delivery.unassigned": "Left off the plan",
    "delivery.confirmed": "Recipient confirmed",
    "delivery.rescheduled": "Rescheduled",
    "delivery.cancelled": "Cancelled",
    "delivery.instructions": "Instructions changed",
    "delivery.access_code": "Access code given",
    "delivery.rated": "Rated",
    "delivery.rating_comment": "Rating comment",
    "delivery.not_received": "Reported not received",
    "delivery.out_for_delivery": "Out for delivery",
    "delivery.arrived": "Driver arrived",
    "delivery.delivered": "Delivered",
    "delivery.failed": "Delivery failed",
    "delivery.photo": "Driver sent a photo",
    "driver.acknowledged": "Driver acknowledged",
    "driver.message": "Driver wrote",
}


@dataclass(frozen=True, slots=True)
class Line:
    """One timeline entry as the page shows it (privacy applied)."""

    entry: Entry
    title: str
    text: str
    details: tuple[str, ...]


def line(entry: Entry, view: View, zone: str) -> Line:
    if entry.source is Source.INBOUND:
        read_as = (f"read as {entry.intent}",) if entry.intent else ()
        return Line(entry, "Recipient wrote", view.entry_text(entry), (*_status(entry), *read_as))
    if entry.source is Source.OUTBOUND:
        return Line(entry, _outbound_title(entry.kind), view.entry_text(entry), _status(entry))
    if entry.source is Source.PROMISE:
        title = "Window told" if entry.old_window is None else "Window changed"
        change = window(entry.new_window, zone)
        if entry.old_window is not None:
            change = f"{window(entry.old_window, zone)} → {change}"
        return Line(entry, title, change, (entry.kind.replace("_", " "),))
    if entry.source is Source.ESCALATION:
        title = f"Escalation {entry.status}: {entry.kind.replace('_', ' ')}"
        return Line(entry, title, view.entry_text(entry), ())
    by = (f"by {entry.actor}",) if entry.actor else ()
    return Line(entry, EVENT_TITLES.get(entry.kind, entry.kind), _data(entry.data, view), by)


def _outbound_title(kind: str) -> str:
    to = "driver" if kind in TO_DRIVER else "recipient"
    return f"To {to}: {kind.replace('-', ' ')}"


def _status(entry: Entry) -> tuple[str, ...]:
    said = [entry.status, entry.provider_status and f"provider: {entry.provider_status}"]
    return tuple(s for s in said if s)


def _data(data: Mapping[str, Any] | None, view: View) -> str:
    return view.text(", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in (data or {}).items()))


async def _page(request: Request, services: ServicesDep, delivery_id: int, view: View) -> HTMLResponse:
    async with services.store.read() as conn:
        found = await reading.timeline(conn, delivery_id)
    if found is None:
        text = f"There is no delivery {delivery_id}. Search by order id, name or phone above."
        return render(request, "message.html", 404, title="No such delivery", text=text)
    header = found.header
    view = View(view.revealed, header.access_code)
    lines = [line(e, view, header.timezone) for e in found.entries]
    return render(request, "delivery.html", delivery=header, view=view, lines=lines, csrf=csrf_of(request))


def csrf_of(request: Request) -> str:
    token: str = getattr(request.state, "console_csrf", "")
    return token


@router.get("/deliveries/{delivery_id}")
async def delivery(request: Request, services: ServicesDep, delivery_id: int) -> HTMLResponse:
    return await _page(request, services, delivery_id, View())


@router.post("/deliveries/{delivery_id}/reveal")
async def reveal(request: Request, services: ServicesDep, admin: AdminDep, delivery_id: int) -> HTMLResponse:
    page = await _page(request, services, delivery_id, View(revealed=True))
    if page.status_code == 200:
        async with services.store.tx() as conn:
            detail = {"shown": ["phone", "access_code"]}
            await audit.record(conn, services.clock.now(), admin.id, REVEALED, delivery_id, detail)
    return page
