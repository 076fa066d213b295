"""FastAPI dependencies: the Services object and the API-key guard."""

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from bot.services import Services
from bot.web import state
from bot.web.errors import ApiError

MAX_ID = 2**63 - 1  # SQL BIGINT; larger numbers cannot name a row
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="DOORSTEP_WEB__API_KEY")


async def get_services(request: Request) -> Services:  # async: FastAPI runs a sync one in a thread
    return state.of(request).services


def api_key_problem(key: str | None, expected: str) -> str | None:
    """What is wrong with the X-API-Key sent, or None when it is the key."""
    if key is None:
        return "missing X-API-Key header"
    if not secrets.compare_digest(key.encode(), expected.encode()):
        return "wrong API key"
    return None


async def require_api_key(request: Request, key: Annotated[str | None, Depends(_api_key_header)]) -> None:
    """Also checked, before the body is read, by bot/web/limits.py; here for the OpenAPI security scheme."""
    if problem := api_key_problem(key, state.of(request).api_key):
        raise ApiError(401, "unauthorized", problem)


ServicesDep = Annotated[Services, Depends(get_services)]
