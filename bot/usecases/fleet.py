"""Depots and drivers: validated with pydantic (API bodies and JSON files alike), upserted by code."""

from datetime import time
from typing import Annotated, Any

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.clock import Clock
from bot.domain.types import IanaZone
from bot.store import events, fleet
from bot.usecases.errors import UseCaseError

Code = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")]


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class DepotIn(BaseModel):
    """A depot: where vans load and, unless told otherwise, start and end."""

    model_config = ConfigDict(extra="forbid")
    code: Code
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(default="", max_length=500)
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    timezone: IanaZone = "Europe/Berlin"


class DriverIn(BaseModel):
    """A driver and the van they drive today."""

    model_config = ConfigDict(extra="forbid")
    code: Code
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = None
    depot: Code
    capacity: int = Field(ge=1, le=1_000_000)
    skills: list[Annotated[str, Field(min_length=1, max_length=64)]] = []
    shift_start: time = time(8, 0)
    shift_end: time = time(18, 0)
    start: Point | None = None
    end: Point | None = None
    active: bool = True

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parsed = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException:
            raise ValueError(f"{value!r} is not a phone number in international form (+49...)") from None
        if not phonenumbers.is_valid_number(parsed):
            raise ValueError(f"{value!r} is not a valid phone number")
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


class FleetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    depots: list[DepotIn] = []
    drivers: list[DriverIn] = []


async def upsert_fleet(
    conn: AsyncConnection, clock: Clock, incoming: FleetIn, *, actor: str, drivers_path: str = "drivers"
) -> dict[str, int]:
    """Create or update depots, then drivers (a driver's depot may be new in the same input).

    `drivers_path` names the drivers list in error paths (`body` when the API body is the list).
    """
    now = clock.now()
    counts = {"depots": 0, "drivers": 0}
    for depot in incoming.depots:
        await fleet.upsert_depot(conn, depot.model_dump(), now)
        counts["depots"] += 1
    known = await fleet.depots_by_code(conn)
    for n, driver in enumerate(incoming.drivers):
        if driver.depot not in known:
            raise UseCaseError(f"unknown depot {driver.depot!r}", field=f"{drivers_path}[{n}].depot")
        driver_id, created = await fleet.upsert_driver(
            conn, _driver_values(driver, known[driver.depot].id), now
        )
        kind = "driver.created" if created else "driver.updated"
        await events.append(conn, now, kind, actor=actor, driver_id=driver_id, data={"code": driver.code})
        counts["drivers"] += 1
    return counts


def _driver_values(driver: DriverIn, depot_id: int) -> dict[str, Any]:
    values = driver.model_dump(exclude={"depot", "start", "end"})
    for end, point in (("start", driver.start), ("end", driver.end)):
        values[f"{end}_lat"] = point.lat if point else None
        values[f"{end}_lon"] = point.lon if point else None
    return {**values, "depot_id": depot_id}
