"""The support console: server-rendered pages under /console for signed-in staff.

Every route under /console checks CSRF on unsafe methods; every router in PAGES stands behind sign-in.
Add a page by adding its router to PAGES (tests/console/test_security.py walks the routes to check).
"""

from fastapi import APIRouter, Depends, FastAPI, Request, Response

from bot.web.console import acting, auth, board, days, deliveries, metrics, search
from bot.web.console.templates import make_environment, render

PAGES = (board.router, search.router, deliveries.router, metrics.router, acting.router)


def install(app: FastAPI) -> None:
    """Mount the console on the app, with its templates and error pages."""
    app.state.console_templates = make_environment()
    auth.install_handlers(app)
    app.add_exception_handler(days.BadDateError, _bad_date)
    console = APIRouter(prefix=auth.PREFIX, dependencies=[Depends(auth.check_csrf)], include_in_schema=False)
    console.include_router(auth.router)
    for pages in PAGES:
        console.include_router(pages, dependencies=[Depends(auth.require_staff)])
    app.include_router(console)


async def _bad_date(request: Request, exc: Exception) -> Response:
    text = f"“{exc}” is not a date: use YYYY-MM-DD, e.g. 2026-11-23."
    return render(request, "message.html", 400, title="Not a date", text=text)
