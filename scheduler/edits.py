"""Telegram messages better edited than repeated: the ETA line of an out-for-delivery message.

Once a van is out, each refresh may move a stop's narrower out-for-delivery window inside its
promise. On Telegram the message the recipient already has is edited to show it (the transport's
`payload["edit"]`); a move outside the promise is a new "delay" or "updated window" message instead
(bot/usecases/replanning.py), because that the recipient must notice. SMS cannot edit: nothing here.
"""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain.deliveries import Status
from bot.domain.messages import NewMessage
from bot.notify.compose import Composer, To, first_name
from bot.notify.kinds import Channel, Kind
from bot.store import outbox
from bot.usecases.day import Day


async def eta_edits(conn: AsyncConnection, composer: Composer, day: Day, now: datetime) -> list[NewMessage]:
    """An edit for every Telegram out-for-delivery message whose window is no longer the one shown."""
    on_board = [
        stop
        for route in day.routes.values()
        for stop in day.remaining(route)
        if day.deliveries[stop.delivery_id].status is Status.OUT_FOR_DELIVERY
        and not day.deliveries[stop.delivery_id].paused  # support took over: no automated edits
    ]
    shown = await outbox.latest_sent(
        conn, Kind.OUT_FOR_DELIVERY.value, Channel.TELEGRAM.value, [s.delivery_id for s in on_board]
    )
    width = timedelta(minutes=composer.settings.out_for_delivery_window_minutes)
    edits: list[NewMessage] = []
    for stop in on_board:
        delivery, promise, last = (
            day.deliveries[stop.delivery_id],
            day.promises.get(stop.delivery_id),
            shown.get(stop.delivery_id),
        )
        if promise is None or last is None or not str(last["provider_ref"] or "").isdigit():
            continue
        to = To(
            Channel.TELEGRAM,
            last["address"],
            delivery.locale,
            delivery.timezone,
            first_name(delivery.name),
            recipient_id=delivery.recipient_id,
        )
        start, end = day.narrowed(stop, now, width)
        fields = {"window": composer.window(to, start, end), "track_url": composer.track_url(delivery)}
        if fields["window"] == last["payload"].get("render", {}).get("fields", {}).get("window"):
            continue
        edits.append(
            composer.message(
                to,
                Kind.OUT_FOR_DELIVERY,
                fields,
                key=f"edit:{last['id']}",
                order_id=delivery.order_id,
                due_at=now,
                delivery_id=delivery.id,
                valid_until=promise.end,
                edit=int(last["provider_ref"]),
                promise=promise.version,
            )
        )
    return edits
