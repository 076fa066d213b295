"""Import deliveries: validate every row, then write all of them or (by default) none."""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.config import DaySettings
from bot.domain.deliveries import PLANNABLE, Delivery, Status
from bot.domain.intake import DeliveryInput, FieldError, IntakeContext, RowError, row_label, validate_batch
from bot.store import contacts, events, fleet, plans
from bot.store import deliveries as delivery_store
from bot.store.db import Store
from bot.usecases.fleet import FleetIn, upsert_fleet


@dataclass
class ImportReport:
    """What an import did; `written` is False when a bad row stopped the whole batch."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RowError] = field(default_factory=list)
    written: bool = False


class _RejectedError(Exception):
    """Raised inside the transaction so that nothing of a refused batch is kept."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report


async def import_deliveries(
    store: Store,
    clock: Clock,
    defaults: DaySettings,
    rows: Iterable[tuple[int, Mapping[str, object]]],
    *,
    fleet_in: FleetIn | None = None,
    skip_invalid: bool = False,
    actor: str = "import",
    label: Callable[[int], str] = row_label,
) -> ImportReport:
    """Validate numbered rows and upsert them by order id (same input twice = same result).

    Depots and drivers given with them are written in the same transaction, so a refused
    batch leaves the store exactly as it was.
    """
    numbered = list(rows)
    try:
        async with store.tx() as conn:
            if fleet_in is not None:
                await upsert_fleet(conn, clock, fleet_in, actor=actor)
            return await _import(conn, clock, defaults, numbered, skip_invalid, actor, label)
    except _RejectedError as refused:
        return refused.report


async def _import(
    conn: AsyncConnection,
    clock: Clock,
    defaults: DaySettings,
    numbered: list[tuple[int, Mapping[str, object]]],
    skip_invalid: bool,
    actor: str,
    label: Callable[[int], str],
) -> ImportReport:
    ctx = IntakeContext(
        defaults.phone_region, defaults.timezone, defaults.locale, await fleet.depots_by_code(conn)
    )
    batch = validate_batch(numbered, ctx, label)
    existing = await delivery_store.by_order_ids(conn, (item.order_id for _, item in batch.good))
    good, locked = _split_locked(batch.good, existing, dict(numbered))
    report = ImportReport(rejected=sorted(batch.bad + locked, key=lambda r: r.row))
    if report.rejected and not skip_invalid:
        raise _RejectedError(report)
    await _write(conn, clock, ctx, good, existing, report, actor)
    report.written = True
    return report


def _split_locked(
    good: list[tuple[int, DeliveryInput]],
    existing: Mapping[str, Delivery],
    raw: Mapping[int, Mapping[str, object]],
) -> tuple[list[tuple[int, DeliveryInput]], list[RowError]]:
    """A parcel already on its way (or finished) cannot be changed by an import."""
    keep: list[tuple[int, DeliveryInput]] = []
    locked: list[RowError] = []
    for number, item in good:
        current = existing.get(item.order_id)
        if current and current.status not in PLANNABLE and _changes(current, item, current.depot_id):
            reason = f"order is already {current.status}; it can no longer be changed by import"
            locked.append(RowError(number, (FieldError("order_id", reason),), raw[number]))
        else:
            keep.append((number, item))
    return keep, locked


def _changes(current: Delivery, item: DeliveryInput, depot_id: int | None) -> list[str]:
    values = delivery_store.delivery_values(item, depot_id)
    return [key for key, value in values.items() if _normal(getattr(current, key)) != _normal(value)]


def _normal(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


async def _write(
    conn: AsyncConnection,
    clock: Clock,
    ctx: IntakeContext,
    good: list[tuple[int, DeliveryInput]],
    existing: Mapping[str, Delivery],
    report: ImportReport,
    actor: str,
) -> None:
    now = clock.now()
    recipient_ids = await delivery_store.upsert_recipients(conn, [item for _, item in good], now)
    for phone, recipient_id in recipient_ids.items():
        await contacts.ensure(conn, recipient_id, "sms", phone, now)
    log: list[dict[str, Any]] = []
    off_plan: list[Delivery] = []
    for _, item in good:
        depot_id = ctx.depots[item.depot].id if item.depot else None
        values = delivery_store.delivery_values(item, depot_id)
        current = existing.get(item.order_id)
        if current is None:
            delivery_id = await delivery_store.insert(conn, values, recipient_ids[item.phone], now)
            log.append(_event(now, "delivery.created", delivery_id, actor, {"order_id": item.order_id}))
            report.created += 1
            continue
        changed = _changes(current, item, depot_id)
        if not changed:
            report.unchanged += 1
            continue
        if current.status is Status.PLANNED and set(changed) & set(delivery_store.PLAN_FIELDS):
            values["status"] = Status.CREATED.value  # its planned stop no longer fits: plan again
            off_plan.append(current)
        await delivery_store.update(
            conn, current.id, {**values, "recipient_id": recipient_ids[item.phone]}, now
        )
        log.append(_event(now, "delivery.updated", current.id, actor, {"changed": changed}))
        report.updated += 1
    await events.append_many(conn, log)
    await _off_plan(conn, off_plan)


async def _off_plan(conn: AsyncConnection, changed: list[Delivery]) -> None:
    """Take re-imported deliveries off their old stops; the scheduler's next re-plan places them again."""
    for day in {d.date for d in changed}:
        header = await plans.active(conn, day)
        if header is not None:
            await plans.remove_stops(conn, header.id, [d.id for d in changed if d.date == day])


def _event(at: Any, kind: str, delivery_id: int, actor: str, data: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": at,
        "kind": kind,
        "delivery_id": delivery_id,
        "actor": actor,
        "data": data,
        "driver_id": None,
        "plan_id": None,
    }
