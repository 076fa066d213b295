"""Probes for a process manager or a load balancer: no key, and nothing secret in the answers.

GET /healthz: the process is up (200, no details). GET /readyz: 200 when it can do its work, else 503;
the JSON says why (bot/health.py)."""

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot import health
from bot.supervise import Supervisor
from bot.web.deps import ServicesDep

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, services: ServicesDep) -> JSONResponse:
    loops: Supervisor | None = getattr(request.app.state, "supervisor", None)
    report = await health.check(services.store, services.clock, services.settings.health, loops)
    return JSONResponse(health.as_json(report), status_code=200 if report.ready else 503)
