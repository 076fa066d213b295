"""A loopback stand-in for Twilio's Messages API: the faults Prism cannot play (5xx, slow answers)."""

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

PATH = "/2010-04-01/Accounts/{sid}/Messages.json"


@dataclass
class FakeTwilio:
    """Records every POST; `answer` is "ok", "500" (stored, then a 5xx) or "slow" (stored, answers late)."""

    now: Callable[[], datetime]
    answer: str = "ok"
    delay: float = 5.0
    posts: list[dict[str, str]] = field(default_factory=list)
    stored: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route(PATH, self._create, methods=["POST"]), Route(PATH, self._list)])

    async def _create(self, request: Request) -> Response:
        form = {key: str(value) for key, value in (await request.form()).items()}
        self.posts.append(form)
        message = _message(f"SM{len(self.posts):032x}", form, self.now())
        self.stored.append(message)
        if self.answer == "500":
            return JSONResponse({"code": 20500, "message": "Internal Server Error", "status": 500}, 500)
        if self.answer == "slow":
            await asyncio.sleep(self.delay)
        return JSONResponse(message, 201)

    async def _list(self, request: Request) -> Response:
        to = request.query_params.get("To")
        found = [m for m in self.stored if m["to"] == to]
        page = {"first_page_uri": "", "next_page_uri": None, "previous_page_uri": None, "uri": ""}
        return JSONResponse(page | {"page": 0, "page_size": 1000, "start": 0, "end": 0, "messages": found})


def _message(sid: str, form: dict[str, str], now: datetime) -> dict[str, Any]:
    stamp = format_datetime(now, usegmt=True)
    return {
        "sid": sid,
        "to": form.get("To"),
        "body": form.get("Body"),
        "status": "queued",
        "date_created": stamp,
        "date_sent": None,
    }
