"""The support console: server-rendered pages under /console for signed-in staff.

Every route under /console checks CSRF on unsafe methods; every router in PAGES stands behind sign-in,
and a path id no row can have (`…_id` past 2^63 - 1, zero, not a number) is a 404 page.
Add a page by adding its router to PAGES (tests/console/test_security.py walks the routes to check).
"""

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from bot.web.console import acting, auth, board, days, deliveries, metrics, search
from bot.web.console.templates import render
from bot.web.deps import MAX_ID

PAGES = (board.router, search.router, deliveries.router, metrics.router, acting.router)


def install(app: FastAPI) -> None:
    """Mount the console on the app, with its error pages (its templates are in the app's state)."""
    auth.install_handlers(app)
    app.add_exception_handler(days.BadDateError, _bad_date)
    app.add_exception_handler(UnknownIdError, _unknown_id)
    console = APIRouter(prefix=auth.PREFIX, dependencies=[Depends(auth.check_csrf)], include_in_schema=False)
    console.include_router(auth.router)
    for pages in PAGES:
        console.include_router(pages, dependencies=[Depends(auth.require_staff), Depends(ids_in_range)])
    app.include_router(console)


async def _bad_date(request: Request, exc: Exception) -> Response:
    text = f"“{exc.asked}” {exc.why}." if isinstance(exc, days.BadDateError) else str(exc)
    return render(request, "message.html", 400, title="Not a day to show", text=text)


class UnknownIdError(Exception):
    """A path id no row can have."""


def _row_id(text: str) -> bool:
    return len(text) <= 19 and text.isascii() and text.isdigit() and 0 < int(text) <= MAX_ID


async def ids_in_range(request: Request) -> None:
    for key, value in request.path_params.items():
        if key.endswith("_id") and not _row_id(str(value)):
            raise UnknownIdError(value)


async def _unknown_id(request: Request, exc: Exception) -> Response:
    return render(request, "message.html", 404, title="Not found", text=f"Nothing has the id “{exc}”.")
