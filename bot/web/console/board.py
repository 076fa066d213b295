"""The today board at /console/: every route of the day, its stops classed against their promise.

A big day unfiltered (more than COMPACT_OVER stops) shows each route's next stop and the first stops
that need someone (at risk, late, failed, escalated), up to COMPACT_ROWS a route, with links to the
rest: 5,000 rows are neither readable nor quick to send. Any filter shows every stop that matches.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from bot.console import board as reading
from bot.console.board import PROBLEMS, BoardFilter, BoardRoute, BoardStop, StopClass
from bot.store import fleet
from bot.web.console import days
from bot.web.console.templates import render
from bot.web.deps import ServicesDep

router = APIRouter()

REFRESH_SECONDS = 30
COMPACT_OVER, COMPACT_ROWS = 300, 6  # stops on the day; rows a route then shows
LABELS = {
    StopClass.ON_TIME: "on time",
    StopClass.AT_RISK: "at risk",
    StopClass.LATE: "late",
    StopClass.DONE: "done",
    StopClass.FAILED: "failed",
}


def _needing_someone(route: BoardRoute) -> list[BoardStop]:
    """The route's next stop and those at risk, late, failed or escalated, in order."""
    upcoming = next((s for s in route.stops if s.state not in (StopClass.DONE, StopClass.FAILED)), None)
    needing = [s for s in route.stops if s is upcoming or s.state in PROBLEMS or s.open_escalations]
    return needing[:COMPACT_ROWS]


def board_filter(driver: str, state: list[str], problems: str, text: str) -> BoardFilter:
    return BoardFilter(
        driver_id=int(driver) if driver.isdigit() else None,
        states=frozenset(StopClass(s) for s in state if s in StopClass._value2member_map_),
        problems_only=bool(problems),
        text=text.strip(),
    )


@router.get("/")
async def board(
    request: Request,
    services: ServicesDep,
    date: str | None = None,
    driver: str = "",
    state: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies query defaults
    problems: str = "",
    text: str = "",
    live: str = "1",
) -> HTMLResponse:
    filters = board_filter(driver, state, problems, text)
    async with services.store.read() as conn:
        chosen = await days.choose(conn, services, date, planned=True)
        shown = await reading.board(conn, chosen.day, services.clock.now(), filters)
        drivers = await fleet.list_drivers(conn)
    compact = filters == BoardFilter() and shown.counters.stops > COMPACT_OVER
    rows = {r.driver_id: (_needing_someone(r) if compact else list(r.stops)) for r in shown.routes}
    return render(
        request, "board.html", board=shown, rows=rows, compact=compact, chosen=chosen, filters=filters,
        drivers=drivers,
        labels=LABELS, live=live != "0", refresh=REFRESH_SECONDS,
        live_off=str(request.url.include_query_params(live="0")),
        live_on=str(request.url.remove_query_params("live")),
    )  # fmt: skip
