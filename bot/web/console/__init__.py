"""The support console: server-rendered pages under /console for signed-in staff.

Every route under /console checks CSRF on unsafe methods; every router in PAGES stands behind sign-in.
Add a page by adding its router to PAGES (tests/console/test_security.py walks the routes to check).
"""

from fastapi import APIRouter, Depends, FastAPI

from bot.web.console import acting, auth, home
from bot.web.console.templates import make_environment

PAGES = (home.router, acting.router)


def install(app: FastAPI) -> None:
    """Mount the console on the app, with its templates and error pages."""
    app.state.console_templates = make_environment()
    auth.install_handlers(app)
    console = APIRouter(prefix=auth.PREFIX, dependencies=[Depends(auth.check_csrf)], include_in_schema=False)
    console.include_router(auth.router)
    for pages in PAGES:
        console.include_router(pages, dependencies=[Depends(auth.require_staff)])
    app.include_router(console)
