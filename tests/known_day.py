"""A finished day with known outcomes, written row by row through the real schema.

Times in UTC (Berlin is UTC+1). Parcels of DAY: A-1..A-7 and A-10 (A-8 moved to the next day, A-9
belongs to it). "told" = a sent message stating that promise version.
  A-1  told 09-10 (v1); out 08:00, nearby 09:20; arrived 09:28, delivered 09:30  inside, error 0
  A-2  told 10-11 (v1); late re-promise 11-12 (v2) told 10:51; delivered 11:40
       agreed v1: outside, +70; first told v1 outside; last told v2 inside
  A-3  told 12-13 (v1); a late 13-14 (v2) made at 13:30, after delivery; delivered 13:20: +50;
       opted out at 12:00; asked for a person at 10:00, staff answered 10:12
  A-4  told 09-10 (v1); failed 09:10 (not_home); rescheduled by the recipient to 14-15 (v2, told 09:21);
       arrived 14:30, delivered 14:50 (service 2 min: 18 min idle): agreed v2 inside, +20
  A-5  told 15-16 (v1); failed 15:30 (refused)
  A-6  planned 16-17, never told, never tried
  A-7  told 09-10 (v1); delivered 08:55: early, -35
  A-10 told EVE 10-11 (v1) two days before; failed EVE 10:30; rescheduled to DAY 11-12 (v2, told EVE
       11:01); pre-delivery for DAY (v2) EVE 17:06; delivered 11:30: agreed v2 inside, 0;
       first told (v1) outside
Vans: V1 Ada (out 08:00): A-7, A-1, A-2, A-3. V2 Bo (out 08:30): A-4, A-10, A-4 again, A-5.
"""

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa

from bot.store import tables as t
from bot.store.db import Store
from eta.geo import LatLon
from tests.conftest import DAY

__all__ = ["DAY", "ROWS", "SCRIPT", "write"]

NEXT = DAY + timedelta(days=1)
EVE = DAY - timedelta(days=1)
EVE2 = DAY - timedelta(days=2)
SCRIPT = "<script>alert(1)</script>"
DEPOT = LatLon(52.5, 13.4)


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute), UTC)


def where(n: int) -> LatLon:
    return LatLon(52.5 + 0.004 * n, 13.4 + 0.006 * n)


def stamps(**row: Any) -> dict[str, Any]:
    return {"created_at": at(5), "updated_at": at(5), **row}


def delivery(n: int, day: date = DAY) -> dict[str, Any]:
    return stamps(
        id=n, order_id=f"A-{n}", recipient_id=1, name="Rosa", phone="+4915100000001", locale="en",
        timezone="Europe/Berlin", address="Torstraße 1", lat=where(n).lat, lon=where(n).lon, date=day,
        window_start=at(8, day=day), window_end=at(18, day=day), service_s=120, size=1, skills=[],
        status="planned", tracking_token=f"tok-{n}",
    )  # fmt: skip


def promise(
    delivery_id: int, version: int, start: datetime, reason: str, created: datetime
) -> dict[str, Any]:
    return {"delivery_id": delivery_id, "version": version, "start": start, "end": start + timedelta(hours=1),
            "reason": reason, "created_at": created, "told_at": None}  # fmt: skip


def event(kind: str, when: datetime, delivery_id: int | None = None, **data: Any) -> dict[str, Any]:
    plan_id = data.pop("plan_id", None)
    driver_id = data.pop("driver_id", None)
    return {"at": when, "kind": kind, "delivery_id": delivery_id, "driver_id": driver_id, "plan_id": plan_id,
            "actor": "test", "data": data}  # fmt: skip


def message(n: int, kind: str, channel: str, status: str, **row: Any) -> dict[str, Any]:
    promise_version = row.pop("promise", None)
    values = {"delivery_id": None, "driver_id": None, "recipient_id": None, "sent_at": None, **row}
    if values["delivery_id"] is not None:
        values["recipient_id"] = 1
    return stamps(
        idem_key=f"m{n}", kind=kind, channel=channel, address="+4915100000001", locale="en",
        timezone="Europe/Berlin", body="…", urgent=False, status=status, due_at=at(6), next_attempt_at=at(6),
        payload={} if promise_version is None else {"promise": promise_version}, **values,
    )  # fmt: skip


def sent(n: int, kind: str, delivery_id: int, when: datetime, promise: int | None = None) -> dict[str, Any]:
    return message(n, kind, "sms", "sent", delivery_id=delivery_id, sent_at=when, promise=promise)


def escalation(kind: str, delivery_id: int | None, created: datetime) -> dict[str, Any]:
    return {"delivery_id": delivery_id, "kind": kind, "detail": "", "status": "open", "created_at": created}


ROWS: list[tuple[sa.Table, list[dict[str, Any]]]] = [
    (t.depots, [
        stamps(id=1, code="D", name="Depot", lat=DEPOT.lat, lon=DEPOT.lon, timezone="Europe/Berlin"),
    ]),
    (t.drivers, [
        stamps(id=n, code=f"V{n}", name=name, depot_id=1, capacity=50, skills=[],
               shift_start=time(8), shift_end=time(18))
        for n, name in [(1, f"Ada {SCRIPT}"), (2, "Bo & Co"), (3, "Cy")]
    ]),
    (t.recipients, [
        stamps(id=1, phone="+4915100000001", name="Rosa", locale="en", timezone="Europe/Berlin"),
    ]),
    (t.deliveries, [*(delivery(n) for n in (*range(1, 8), 10)), delivery(8, NEXT), delivery(9, NEXT)]),
    (t.plans, [
        {"id": n, "date": day, "version": 1, "active": True, "matrix": "haversine", "cost": 1,
         "solve_ms": 50, "created_at": at(5)}
        for n, day in [(1, DAY), (2, NEXT)]
    ]),
    (t.routes, [
        {"id": 1, "plan_id": 1, "driver_id": 1, "start_at": at(8), "end_at": at(17), "distance_m": 1,
         "duration_s": 1},
        {"id": 2, "plan_id": 1, "driver_id": 2, "start_at": at(8), "end_at": at(17), "distance_m": 1,
         "duration_s": 1},
    ]),
    (t.stops, [
        {"route_id": route, "delivery_id": d, "sequence": seq, "planned_arrival": at(9),
         "promised_start": at(9), "promised_end": at(10)}
        for route, ds in [(1, [7, 1, 2, 3]), (2, [4, 10, 5, 6])] for seq, d in enumerate(ds, 1)
    ]),
    (t.promises, [
        promise(1, 1, at(9), "planned", at(16, day=EVE)),
        promise(2, 1, at(10), "planned", at(16, day=EVE)), promise(2, 2, at(11), "late", at(10, 50)),
        promise(3, 1, at(12), "planned", at(16, day=EVE)), promise(3, 2, at(13), "late", at(13, 30)),
        promise(4, 1, at(9), "planned", at(16, day=EVE)), promise(4, 2, at(14), "rescheduled", at(9, 20)),
        promise(5, 1, at(15), "planned", at(16, day=EVE)), promise(6, 1, at(16), "planned", at(16, day=EVE)),
        promise(7, 1, at(9), "planned", at(16, day=EVE)),
        promise(10, 1, at(10, day=EVE), "planned", at(16, day=EVE2)),
        promise(10, 2, at(11), "rescheduled", at(11, day=EVE)),
    ]),
    (t.events, [
        *(event("delivery.out_for_delivery", at(8), d, driver_id=1) for d in (7, 1, 2, 3)),
        *(event("delivery.out_for_delivery", at(8, 30), d, driver_id=2) for d in (4, 10, 5)),
        event("delivery.arrived", at(9, 28), 1), event("delivery.delivered", at(9, 30), 1),
        event("delivery.delivered", at(11, 40), 2), event("delivery.delivered", at(13, 20), 3),
        event("delivery.failed", at(9, 10), 4, reason="not_home"),
        event("delivery.rescheduled", at(9, 20), 4, **{"from": [at(9).isoformat(), at(10).isoformat()]}),
        event("delivery.arrived", at(14, 30), 4), event("delivery.delivered", at(14, 50), 4),
        event("delivery.failed", at(15, 30), 5, reason="refused"),
        event("delivery.delivered", at(8, 55), 7),
        event("delivery.failed", at(10, 30, day=EVE), 10, reason="not_home"),
        event("delivery.rescheduled", at(11, day=EVE), 10, **{"from": [at(10, day=EVE).isoformat()]}),
        event("delivery.delivered", at(11, 30), 10),
        event("delivery.rescheduled", at(7), 8, **{"from": [at(10).isoformat(), at(11).isoformat()]}),
        event("delivery.rescheduled", at(7), 9, **{"from": [at(10, day=NEXT).isoformat()]}),
        event("recipient.opted_out", at(12), 3, channel="sms"), event("recipient.opted_out", at(12), 9),
        event("plan.revised", at(9, 20), plan_id=1, revision=1, latency_ms=120, solve_ms=40, told=2),
        event("plan.revised", at(10, 50), plan_id=1, revision=2, solve_ms=300, told=0),
        event("plan.revised", at(12), plan_id=1, revision=3, latency_ms=80, solve_ms=20, told=4),
        event("plan.revised", at(13), plan_id=1, revision=4, latency_ms=900, told=1),
        event("plan.revised", at(13), plan_id=2, revision=1, latency_ms=5, told=9),
    ]),
    (t.inbox, [
        {"channel": "telegram", "provider_ref": "u1", "address": "77", "body": "I need a person",
         "received_at": at(10), "status": "done", "delivery_id": 3, "intent": "Person", "raw": {}},
    ]),
    (t.messages, [
        sent(1, "pre-delivery", 1, at(17, day=EVE), 1),
        sent(2, "pre-delivery", 2, at(17, 1, day=EVE), 1),
        message(3, "pre-delivery", "telegram", "sent", delivery_id=3, sent_at=at(17, 2, day=EVE), promise=1),
        sent(4, "pre-delivery", 4, at(17, 3, day=EVE), 1),
        sent(5, "pre-delivery", 5, at(17, 4, day=EVE), 1),
        sent(6, "pre-delivery", 7, at(17, 5, day=EVE), 1),
        sent(7, "out-for-delivery", 1, at(8), 1), sent(8, "nearby", 1, at(9, 20)),
        sent(9, "delivered", 1, at(9, 31)),
        message(10, "delivered", "telegram", "failed", delivery_id=2),
        sent(11, "delay", 2, at(10, 51), 2),
        message(12, "delay", "sms", "expired", delivery_id=5),
        sent(13, "rescheduled", 4, at(9, 21), 2),
        sent(14, "pre-delivery", 10, at(17, day=EVE2), 1),
        sent(15, "failed", 10, at(10, 31, day=EVE)),
        sent(16, "rescheduled", 10, at(11, 1, day=EVE), 2),
        sent(17, "pre-delivery", 10, at(17, 6, day=EVE), 2),
        sent(18, "delivered", 10, at(11, 31)),
        message(19, "staff-reply", "telegram", "sent", delivery_id=3, sent_at=at(10, 12),
                created_at=at(10, 12)),
        message(20, "driver-route", "telegram", "sent", driver_id=1, sent_at=at(7)),
        message(21, "driver-notes", "telegram", "sent", driver_id=3, sent_at=at(7)),  # not on a route of DAY
        sent(22, "pre-delivery", 9, at(17), 1),
    ]),
    (t.escalations, [
        escalation("failed", 5, at(15, 31)), escalation("low_rating", 3, at(16)),
        escalation("late", 2, at(10)),
        escalation("not_understood", None, at(12)), escalation("not_understood", None, at(12, day=NEXT)),
        escalation("failed", 9, at(12)),
    ]),
]  # fmt: skip


async def write(store: Store) -> None:
    """The day's rows, in one transaction, into a migrated database."""
    async with store.tx() as conn:
        for table, rows in ROWS:
            await conn.execute(table.insert(), rows)
