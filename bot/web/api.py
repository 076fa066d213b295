"""The ops API: deliveries, drivers, depots, plans. OpenAPI at /docs."""

import importlib
from dataclasses import asdict
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Path, Query, Request, status

from bot.channels import registry
from bot.domain.deliveries import Status
from bot.domain.intake import RowError, e164
from bot.domain.routes import PlanHeader, RouteView, UnassignedView
from bot.services import Services
from bot.store import deliveries as delivery_store
from bot.store import events, fleet, outbox, plans
from bot.supervise import Supervisor
from bot.usecases import driver_link, inbound, planning, progress, proof
from bot.usecases.errors import NotFoundError
from bot.usecases.fleet import DepotIn, DriverIn, FleetIn, upsert_fleet
from bot.usecases.intake import import_deliveries
from bot.web import console, errors, health, limits, schemas, track
from bot.web.console import templates as console_templates
from bot.web.deps import MAX_ID, ServicesDep, require_api_key
from bot.web.errors import ApiError
from bot.web.state import WebState

router = APIRouter(prefix="/api", dependencies=[Depends(require_api_key)])
MAX_PAGE = 1000
PLAN_DAYS_AWAY = 365  # a plan further from today (either way) is a typo, not a day to route
Id = Annotated[int, Path(ge=1, le=MAX_ID)]


def create_web_app(services: Services, api_key: str, supervisor: Supervisor | None = None) -> FastAPI:
    app = FastAPI(
        title="Doorstep",
        summary="Delivery messages that recipients can answer, and routes that follow their answers.",
        version="0.1.0",
        redirect_slashes=False,  # errors.slash_twin redirects, relative: Starlette's takes the Host header
    )
    loops = supervisor or Supervisor(services.clock, services.settings.health)
    app.state.doorstep = WebState(
        services,
        api_key,
        loops,
        inbound.GroupCommit(services, loop=loops.on_demand("inbound-commit")),
        console_templates.make_environment(),
    )
    errors.install(app)
    app.add_middleware(limits.BodyGuard)
    app.include_router(router)
    for spec in registry.specs():  # each channel's webhook (bot/channels/registry.py)
        if spec.webhook:
            module, _, name = spec.webhook.partition(":")
            app.include_router(getattr(importlib.import_module(module), name))
    app.include_router(health.router)
    track.install(app)
    console.install(app)
    return app


def _rejected(rows: list[RowError]) -> list[dict[str, Any]]:
    """API rows are numbered by their index in the JSON body."""
    return [
        {"path": f"body[{r.row}].{e.field}", "message": e.reason, "order_id": r.raw.get("order_id")}
        for r in rows
        for e in r.errors
    ]


@router.post("/deliveries", response_model=schemas.ImportOut, tags=["deliveries"])
async def create_deliveries(
    services: ServicesDep,
    body: list[dict[str, Any]],
    skip_invalid: Annotated[bool, Query(description="import the valid rows, report the rest")] = False,
) -> schemas.ImportOut:
    """Create or update deliveries by order_id (same fields as the CSV import); all or nothing by default."""
    report = await import_deliveries(
        services.store,
        services.clock,
        services.settings.day,
        list(enumerate(body)),
        skip_invalid=skip_invalid,
        actor="api",
        label=lambda index: f"body[{index}]",
    )
    if report.rejected and not skip_invalid:
        bad = len({r.row for r in report.rejected})
        message = f"{bad} of {len(body)} deliveries are invalid; none imported"
        raise ApiError(422, "invalid_deliveries", message, _rejected(report.rejected))
    return schemas.ImportOut(
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        rejected=_rejected(report.rejected),
    )


@router.get("/deliveries", response_model=list[schemas.DeliveryOut], tags=["deliveries"])
async def list_deliveries(
    services: ServicesDep,
    day: Annotated[date | None, Query(alias="date")] = None,
    status_in: Annotated[list[Status] | None, Query(alias="status")] = None,
    q: Annotated[
        str | None,
        Query(max_length=100, pattern=r"^[^\x00-\x1f\x7f]*$", description="order id, name or phone contains"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Any:
    phone = e164(q, services.settings.day.phone_region) if q else None
    where = delivery_store.DeliveryFilter(day, tuple(status_in or ()), None, q, phone, limit, offset)
    async with services.store.read() as conn:
        return await delivery_store.find(conn, where)


@router.get("/deliveries/{delivery_id}", response_model=schemas.DeliveryDetail, tags=["deliveries"])
async def get_delivery(services: ServicesDep, delivery_id: Id) -> Any:
    async with services.store.read() as conn:
        delivery = await delivery_store.get(conn, delivery_id)
        if delivery is None:
            raise NotFoundError(f"no delivery with id {delivery_id}", field="delivery_id")
        stop = await plans.active_stop(conn, delivery_id)
        log = await events.for_delivery(conn, delivery_id)
    return {**schemas.DeliveryOut.model_validate(delivery).model_dump(), "stop": stop, "events": log}


@router.post("/deliveries/{delivery_id}/cancel", response_model=schemas.DeliveryOut, tags=["deliveries"])
async def cancel_delivery(services: ServicesDep, delivery_id: Id, body: schemas.CancelRequest) -> Any:
    await progress.cancel_delivery(services, delivery_id, reason=body.reason, actor="api")
    return await _delivery(services, delivery_id)


@router.post("/deliveries/{delivery_id}/events", response_model=schemas.DeliveryOut, tags=["deliveries"])
async def stop_event(services: ServicesDep, delivery_id: Id, body: schemas.StopEventRequest) -> Any:
    """Report progress at a stop: out_for_delivery, arrived, delivered, or failed (with a reason)."""
    await progress.record_stop_event(
        services, delivery_id, body.type, reason=body.reason, note=body.note, actor="api"
    )
    return await _delivery(services, delivery_id)


PHOTO_TYPES = ("image/jpeg", "image/png", "image/webp")


@router.post(
    "/deliveries/{delivery_id}/photo",
    status_code=status.HTTP_201_CREATED,
    tags=["deliveries"],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {t: {"schema": {"type": "string", "format": "binary"}} for t in PHOTO_TYPES},
        }
    },
)
async def delivery_photo(services: ServicesDep, delivery_id: Id, request: Request) -> dict[str, int]:
    """A driver app's proof-of-delivery photo (the body: a JPEG, PNG or WebP image of at most 5 MB), at
    a stop the driver is at or has done; the recipient's page shows the newest of a delivered parcel."""
    photo_id = await proof.add_photo(services, delivery_id, await request.body(), actor="api")
    return {"photo_id": photo_id}


async def _delivery(services: Services, delivery_id: int) -> Any:
    async with services.store.read() as conn:
        return await delivery_store.get(conn, delivery_id)


@router.get("/depots", response_model=list[schemas.DepotOut], tags=["fleet"])
async def list_depots(services: ServicesDep) -> Any:
    async with services.store.read() as conn:
        return list((await fleet.depots_by_code(conn)).values())


@router.post("/depots", response_model=list[schemas.DepotOut], tags=["fleet"])
async def upsert_depots(services: ServicesDep, body: list[DepotIn]) -> Any:
    """Create depots, or update those whose code exists."""
    async with services.store.tx() as conn:
        await upsert_fleet(conn, services.clock, FleetIn(depots=body), actor="api")
        known = await fleet.depots_by_code(conn)
    return [known[d.code] for d in body]


@router.get("/drivers", response_model=list[schemas.DriverOut], tags=["fleet"])
async def list_drivers(services: ServicesDep) -> Any:
    async with services.store.read() as conn:
        return await fleet.list_drivers(conn)


@router.post("/drivers", response_model=list[schemas.DriverOut], tags=["fleet"])
async def upsert_drivers(services: ServicesDep, body: list[DriverIn]) -> Any:
    """Create drivers (and their vans), or update those whose code exists."""
    async with services.store.tx() as conn:
        await upsert_fleet(conn, services.clock, FleetIn(drivers=body), actor="api", drivers_path="body")
        by_code = {d.code: d for d in await fleet.list_drivers(conn)}
    return [by_code[d.code] for d in body]


@router.get("/drivers/{driver_id}", response_model=schemas.DriverOut, tags=["fleet"])
async def get_driver(services: ServicesDep, driver_id: Id) -> Any:
    async with services.store.read() as conn:
        driver = await fleet.get_driver(conn, driver_id)
    if driver is None:
        raise NotFoundError(f"no driver with id {driver_id}", field="driver_id")
    return driver


@router.post("/drivers/{driver_id}/position", status_code=status.HTTP_204_NO_CONTENT, tags=["fleet"])
async def driver_position(services: ServicesDep, driver_id: Id, body: schemas.PositionRequest) -> None:
    await progress.update_position(services, driver_id, body.lat, body.lon, actor="api")


@router.post(
    "/drivers/{driver_id}/telegram-code",
    response_model=schemas.LinkCodeOut,
    status_code=status.HTTP_201_CREATED,
    tags=["fleet"],
)
async def telegram_code(services: ServicesDep, driver_id: Id) -> Any:
    """A one-time code (valid 24 h) the driver sends to the bot as `/driver CODE` to link their chat.

    A new code replaces the driver's previous one; only its hash is kept."""
    return await driver_link.issue_code(services, driver_id, actor="api")


@router.post("/drivers/{driver_id}/start", response_model=schemas.StartOut, tags=["fleet"])
async def start_route(services: ServicesDep, driver_id: Id) -> Any:
    """The van leaves the depot: today's planned parcels on its route are out for delivery."""
    return {"out_for_delivery": await progress.start_route(services, driver_id, actor="api")}


@router.post("/plans", response_model=schemas.PlanOut, status_code=status.HTTP_201_CREATED, tags=["plans"])
async def create_plan(services: ServicesDep, body: schemas.PlanRequest) -> Any:
    """Plan the day with VROOM: routes, planned arrivals, promised windows; unassigned jobs with reasons."""
    _near_today(services, body.date)
    result = await planning.plan_date(
        services.store,
        services.clock,
        services.settings.eta,
        services.matrix,
        body.date,
        actor="api",
        composer=services.composer,
    )
    return {
        **_plan_out(result.plan, result.routes, result.unassigned),
        "kept": result.kept,
        "told": result.told,
    }


def _near_today(services: Services, day: date) -> None:
    today = services.clock.now().date()
    first, last = today - timedelta(days=PLAN_DAYS_AWAY), today + timedelta(days=PLAN_DAYS_AWAY)
    if not first <= day <= last:
        message = f"{day} is not a day to plan: pick one between {first} and {last}"
        raise ApiError(422, "invalid_request", message, [{"path": "body.date", "message": message}])


@router.get("/plans/{day}", response_model=schemas.PlanOut, tags=["plans"])
async def get_plan(services: ServicesDep, day: date) -> Any:
    """The active plan of a day."""
    async with services.store.read() as conn:
        header = await plans.active(conn, day)
        if header is None:
            raise NotFoundError(f"no plan for {day} yet: POST /api/plans", field="date")
        routes = await plans.route_views(conn, header.id)
        return _plan_out(header, routes, await plans.unassigned_views(conn, header.id))


def _plan_out(
    header: PlanHeader, routes: list[RouteView], unassigned: list[UnassignedView]
) -> dict[str, Any]:
    return {**asdict(header), "routes": routes, "unassigned": unassigned}


@router.post(
    "/sandbox/replies",
    response_model=schemas.SandboxReplyOut,
    status_code=status.HTTP_202_ACCEPTED,
    tags=["sandbox"],
)
async def sandbox_reply(services: ServicesDep, body: schemas.SandboxReplyIn) -> Any:
    """A simulated recipient answers, through the same inbound path real SMS and Telegram replies take."""
    target: int | str = body.delivery_id if body.delivery_id is not None else str(body.order_id)
    inbox_id = await inbound.sandbox_reply(services, target, body.text, body.channel)
    async with services.store.read() as conn:
        replies = await outbox.replies_to(conn, inbox_id) if inbox_id is not None else []
    return {"inbox_id": inbox_id, "replies": replies}
