"""The console's home page (a placeholder until the board lands)."""

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bot.web.console.auth import StaffDep
from bot.web.console.templates import render

router = APIRouter()


@router.get("/")
async def home(request: Request, user: StaffDep) -> HTMLResponse:
    return render(request, "home.html", user=user)
