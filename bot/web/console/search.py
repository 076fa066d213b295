"""Search at /console/search: a delivery by order id, name or phone, as a caller gives it."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.console import search as reading
from bot.web.console.privacy import View
from bot.web.console.templates import render
from bot.web.deps import ServicesDep

router = APIRouter()

LIMIT = 50


@router.get("/search")
async def search(request: Request, services: ServicesDep, q: str = "") -> HTMLResponse:
    async with services.store.read() as conn:
        hits = await reading.search(conn, q[:100], LIMIT)
    return render(request, "search.html", hits=hits, search_query=q, view=View(), limit=LIMIT)
