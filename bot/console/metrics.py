"""The metrics page: a day's figures (and the last days'), counted as `bot.domain.figures` counts them.

For `day`, over the deliveries dated that day:
- inside_promise_pct, first_attempt_success_pct, ETA error: see `bot.domain.figures`.
- reschedule_rate_pct: deliveries with a `delivery.rescheduled` event, plus those moved away whose
  old window began on the day in `zone`, over the day's deliveries.
- messages per delivery, by channel: outbound messages sent, inbound received, over deliveries.
- first staff answer: from an inbound message that needed a person (`queue.NEEDS_PERSON`) to the
  first `staff-reply` to its delivery after it, in minutes; the median, None when there is none.
"""

import json
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.console.queue import NEEDS_PERSON
from bot.domain import figures
from bot.domain.figures import Attempt, Told
from bot.notify.kinds import Kind
from bot.store.outbox import MessageStatus
from bot.store.tables import deliveries, events, inbox, messages, promises

BIN_MINUTES = 5


@dataclass(frozen=True, slots=True)
class Metrics:
    day: date
    deliveries: int
    delivered: int
    inside_promise_pct: float | None
    first_attempt_success_pct: float | None
    rescheduled: int
    reschedule_rate_pct: float | None
    outbound_per_delivery: Mapping[str, float]  # channel -> sent messages per delivery
    inbound_per_delivery: Mapping[str, float]
    first_staff_answer_median_min: float | None
    eta_error_median_min: float | None
    eta_error_bins: tuple[tuple[int, int], ...]  # (lower edge in minutes, parcels), BIN_MINUTES wide


async def metrics(conn: AsyncConnection, day: date, zone: str) -> Metrics:
    """The figures of `day` (`zone` places moved-away deliveries' old windows on a day)."""
    ids = sa.select(deliveries.c.id).where(deliveries.c.date == day).scalar_subquery()
    count = int((await conn.execute(sa.select(sa.func.count()).where(deliveries.c.date == day))).scalar_one())
    attempts = await _attempts(conn, ids)
    ledger = await _ledger(conn, ids)
    errors = figures.eta_errors(attempts, ledger)
    rescheduled = await _rescheduled(conn, day, ZoneInfo(zone))
    return Metrics(
        day=day,
        deliveries=count,
        delivered=len(figures.delivered(attempts)),
        inside_promise_pct=figures.inside_pct(attempts, ledger),
        first_attempt_success_pct=figures.first_attempt_pct(attempts),
        rescheduled=rescheduled,
        reschedule_rate_pct=figures.pct(rescheduled, count),
        outbound_per_delivery=_per(await _sent_by_channel(conn, ids), count),
        inbound_per_delivery=_per(await _received_by_channel(conn, ids), count),
        first_staff_answer_median_min=figures.median(await _staff_answer_minutes(conn, ids)),
        eta_error_median_min=figures.median(errors),
        eta_error_bins=figures.bins(errors, BIN_MINUTES),
    )


async def metrics_range(
    conn: AsyncConnection, last_day: date, days: int = 7, *, zone: str = "UTC"
) -> list[Metrics]:
    """`metrics` of each of the `days` days up to `last_day`, oldest first."""
    return [await metrics(conn, last_day - timedelta(days=n), zone) for n in reversed(range(days))]


async def _attempts(conn: AsyncConnection, ids: Any) -> list[Attempt]:
    query = (
        sa.select(events.c.delivery_id, deliveries.c.order_id, events.c.at, events.c.kind, events.c.driver_id)
        .join(deliveries, deliveries.c.id == events.c.delivery_id)
        .where(events.c.kind.in_(["delivery.delivered", "delivery.failed"]), events.c.delivery_id.in_(ids))
        .order_by(events.c.at, events.c.id)
    )
    rows = await conn.execute(query)
    return [
        Attempt(r.delivery_id, r.order_id, r.at, r.kind == "delivery.delivered", r.driver_id) for r in rows
    ]


async def _ledger(conn: AsyncConnection, ids: Any) -> dict[int, list[Told]]:
    query = (
        sa.select(promises.c.delivery_id, promises.c.start, promises.c.end, promises.c.created_at)
        .where(promises.c.delivery_id.in_(ids))
        .order_by(promises.c.delivery_id, promises.c.version)
    )
    found: dict[int, list[Told]] = {}
    for r in await conn.execute(query):
        found.setdefault(r.delivery_id, []).append(Told(r.start, r.end, r.created_at))
    return found


async def _rescheduled(conn: AsyncConnection, day: date, zone: ZoneInfo) -> int:
    query = sa.select(events.c.delivery_id, events.c.data, deliveries.c.date).join(
        deliveries, deliveries.c.id == events.c.delivery_id
    )
    rows = await conn.execute(query.where(events.c.kind == "delivery.rescheduled"))
    return len({r.delivery_id for r in rows if r.date == day or _moved_from(r.data, day, zone)})


def _moved_from(data: Mapping[str, Any] | str, day: date, zone: ZoneInfo) -> bool:
    old = (json.loads(data) if isinstance(data, str) else data).get("from")
    if not isinstance(old, list) or not old:
        return False
    start = datetime.fromisoformat(str(old[0]))
    return (start if start.tzinfo else start.replace(tzinfo=UTC)).astimezone(zone).date() == day


async def _sent_by_channel(conn: AsyncConnection, ids: Any) -> Counter[str]:
    query = (
        sa.select(messages.c.channel, sa.func.count())
        .where(messages.c.delivery_id.in_(ids), messages.c.status == MessageStatus.SENT.value)
        .group_by(messages.c.channel)
    )
    return Counter({channel: int(n) for channel, n in await conn.execute(query)})


async def _received_by_channel(conn: AsyncConnection, ids: Any) -> Counter[str]:
    query = (
        sa.select(inbox.c.channel, sa.func.count())
        .where(inbox.c.delivery_id.in_(ids))
        .group_by(inbox.c.channel)
    )
    return Counter({channel: int(n) for channel, n in await conn.execute(query)})


def _per(counts: Counter[str], deliveries_count: int) -> dict[str, float]:
    return (
        {channel: n / deliveries_count for channel, n in sorted(counts.items())} if deliveries_count else {}
    )


async def _staff_answer_minutes(conn: AsyncConnection, ids: Any) -> list[float]:
    """Per inbound message that needed a person, minutes until the first staff reply to its delivery."""
    first_reply = (
        sa.select(sa.func.min(messages.c.created_at))
        .where(messages.c.delivery_id == inbox.c.delivery_id, messages.c.kind == Kind.STAFF_REPLY.value)
        .where(messages.c.created_at >= inbox.c.received_at)
        .scalar_subquery()
    )
    query = sa.select(inbox.c.received_at, first_reply.label("answered_at")).where(
        inbox.c.delivery_id.in_(ids), inbox.c.intent.in_(NEEDS_PERSON)
    )
    rows = await conn.execute(query)
    return [(r.answered_at - r.received_at).total_seconds() / 60 for r in rows if r.answered_at is not None]
