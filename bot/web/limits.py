"""Request bodies: a size limit per route, and /api's key, both checked before anything reads a body.

FastAPI reads and parses a body before it runs any dependency (the API-key check included), so both
checks sit in front of the app, as ASGI middleware: a declared Content-Length over the route's limit
is answered 413 at once, and the bytes of a body as they arrive (chunked ones too) are counted, so a
handler reading past the limit gets a 413 instead of the rest.
"""

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.web import state, telegram
from bot.web.deps import api_key_problem
from bot.web.errors import error_body

KIB, MIB = 1024, 1024 * 1024
LIMITS: tuple[tuple[str, int], ...] = (  # path prefix -> most bytes a body may have; first match wins
    ("/api/deliveries", 8 * MIB),  # a day's import: 5,000 deliveries are about 2 MB
    ("/api/", 1 * MIB),
    ("/webhooks/telegram", telegram.MAX_BODY),
    ("/webhooks/twilio/", 64 * KIB),  # an SMS's form, even with ten media URLs, is a few kB
    ("/console/", 64 * KIB),  # forms: a reply is at most 1,000 characters
)
DEFAULT_LIMIT = 64 * KIB


def limit_for(path: str) -> int:
    return next((limit for prefix, limit in LIMITS if path.startswith(prefix)), DEFAULT_LIMIT)


class TooLargeError(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is over this route's limit of {limit} bytes")


class BodyGuard:
    """The API key on /api, then the route's body limit, before the app reads a byte of the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, headers = scope["path"], Headers(scope=scope)
        if path == "/api" or path.startswith("/api/"):
            expected = state.of(scope["app"]).api_key
            if problem := api_key_problem(headers.get("X-API-Key"), expected):
                await JSONResponse(error_body("unauthorized", problem), 401)(scope, receive, send)
                return
        limit, declared = limit_for(path), headers.get("Content-Length", "")
        if declared.isascii() and declared.isdigit() and int(declared) > limit:
            too_large = TooLargeError(limit)
            await JSONResponse(error_body("too_large", too_large.detail), 413)(scope, receive, send)
            return
        await self.app(scope, _counting(receive, limit), send)


def _counting(receive: Receive, limit: int) -> Receive:
    seen = 0

    async def counted() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise TooLargeError(limit)
        return message

    return counted
