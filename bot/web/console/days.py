"""Which day a console page is about: the one asked for (`?date=YYYY-MM-DD`), or today at the depot."""

from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.services import Services
from bot.store import fleet, plans

YEARS_AWAY = 10  # further from today is a typo; near date.min or date.max a week cannot be counted back


class BadDateError(ValueError):
    """`?date=` that is not YYYY-MM-DD, or a day too far from today to be about anything."""

    def __init__(self, asked: str, why: str) -> None:
        super().__init__(asked)
        self.asked, self.why = asked, why


@dataclass(frozen=True, slots=True)
class Chosen:
    day: date
    zone: str  # the depot's (the first one's), else DOORSTEP_DAY__TIMEZONE
    today: date
    fallback: bool = False  # today has no plan, so the nearest planned day is shown


def parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise BadDateError(text, "is not a date: use YYYY-MM-DD, e.g. 2026-11-23") from None


async def depot_zone(conn: AsyncConnection, services: Services) -> str:
    depots = sorted((await fleet.depots_by_code(conn)).values(), key=lambda d: d.id)
    return depots[0].timezone if depots else services.settings.day.timezone


async def choose(conn: AsyncConnection, services: Services, asked: str | None, *, planned: bool) -> Chosen:
    """The asked day; else today in the depot's zone, or (`planned`) the nearest day with a plan if
    today has none, so a board opened on yesterday's or tomorrow's data still shows it."""
    zone = await depot_zone(conn, services)
    today = services.clock.now().astimezone(ZoneInfo(zone)).date()
    if (day := parse_day(asked)) is not None:
        if abs(day.year - today.year) > YEARS_AWAY:
            why = f"is too far from today: pick a day within {YEARS_AWAY} years of {today.isoformat()}"
            raise BadDateError(str(asked), why)
        return Chosen(day, zone, today)
    if not planned or await plans.active(conn, today) is not None:
        return Chosen(today, zone, today)
    nearest = await plans.nearest_active_day(conn, today)
    return Chosen(nearest or today, zone, today, fallback=nearest is not None)
