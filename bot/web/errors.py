"""Every error the API gives is JSON: a code, a message a person can act on, and field paths."""

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException
from starlette.routing import Match

from bot.usecases.errors import ConflictError, NotFoundError, UseCaseError

HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, errors: Sequence[dict[str, str]] = ()) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.errors = status, code, message, list(errors)


def error_body(code: str, message: str, errors: Sequence[dict[str, str]] = ()) -> dict[str, Any]:
    return {"error": code, "message": message, "errors": list(errors)}


def field_path(loc: Sequence[int | str]) -> str:
    """('body', 2, 'phone') -> 'body[2].phone'."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.errors), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"path": field_path(e["loc"]), "message": e["msg"]} for e in exc.errors()]
        summary = f"{len(errors)} invalid field(s): " + ", ".join(e["path"] for e in errors[:5])
        return JSONResponse(error_body("invalid_request", summary, errors), status_code=422)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404 and (twin := slash_twin(request)) is not None:
            return RedirectResponse(twin, status_code=307)
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse(
            error_body(code, str(exc.detail)), status_code=exc.status_code, headers=exc.headers
        )

    @app.exception_handler(UseCaseError)
    async def _use_case(_: Request, exc: UseCaseError) -> JSONResponse:
        status, code = _status(exc)
        errors = [{"path": exc.field, "message": exc.message}] if exc.field else []
        return JSONResponse(error_body(code, exc.message, errors), status_code=status)


def slash_twin(request: Request) -> str | None:
    """The path with (or without) its trailing slash, when a route has that one: a relative URL, so
    neither the Host header nor a path starting `//` can send the visitor to another site."""
    path: str = request.scope["path"]
    if request.scope.get("endpoint") is not None:  # a route answered 404 itself
        return None
    twin = path.rstrip("/") if path.endswith("/") else path + "/"
    if not twin.startswith("/") or twin[1:2] in ("/", "\\"):
        return None
    scope = {**request.scope, "path": twin}
    if not any(route.matches(scope)[0] is not Match.NONE for route in request.app.router.routes):
        return None
    root: str = request.scope.get("root_path", "")
    query = request.url.query
    return root + twin + (f"?{query}" if query else "")


def _status(exc: UseCaseError) -> tuple[int, str]:
    if isinstance(exc, NotFoundError):
        return 404, "not_found"
    if isinstance(exc, ConflictError):
        return 409, "conflict"
    return 422, "invalid_request"
