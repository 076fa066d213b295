"""The metrics page's reads: a day's figures and the last days', exactly as `bot.domain.figures` defines
them (the demo report and bench/promise.py show the same ones)."""

from datetime import date, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection

from bot.domain import figures
from bot.domain.figures import DayFigures
from bot.store import day_facts


async def metrics(conn: AsyncConnection, day: date) -> DayFigures:
    """The figures of `day`."""
    return figures.compute(await day_facts.load(conn, day))


async def metrics_range(conn: AsyncConnection, last_day: date, days: int = 7) -> list[DayFigures]:
    """`metrics` of each of the `days` days up to `last_day`, oldest first."""
    return [await metrics(conn, last_day - timedelta(days=n)) for n in reversed(range(days))]
