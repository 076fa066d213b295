"""FastAPI dependencies: the Services object and the API-key guard."""

import secrets
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from bot.services import Services
from bot.web.errors import ApiError

_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="DOORSTEP_WEB__API_KEY")


async def get_services(request: Request) -> Services:  # async: FastAPI runs a sync one in a thread
    services: Services = request.app.state.services
    return services


async def require_api_key(request: Request, key: Annotated[str | None, Depends(_api_key_header)]) -> None:
    expected: str = request.app.state.api_key
    if key is None:
        raise ApiError(401, "unauthorized", "missing X-API-Key header")
    if not secrets.compare_digest(key.encode(), expected.encode()):
        raise ApiError(401, "unauthorized", "wrong API key")


ServicesDep = Annotated[Services, Depends(get_services)]
