"""Probes for a process manager or a load balancer: no key, and nothing secret in the answers.

GET /healthz: the process is up (200, no details). GET /readyz: 200 when it can do its work, else 503;
the JSON says why (bot/health.py), and how many webhooks this process refused (bot/web/refused.py).
A check writes to the database, so checks run one at a time and requests that came while one ran
take the answer of the next check begun after they came: a flood of /readyz costs one write at a
time, and nobody gets an answer older than their request.
"""

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot import health
from bot.web import state as web_state
from bot.web.deps import ServicesDep

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request, services: ServicesDep) -> JSONResponse:
    state = web_state.of(request)
    asked = time.monotonic()
    async with state.readyz_lock:
        last: tuple[float, health.Report] | None = state.readyz_last  # (when it began, what it found)
        if last is None or last[0] < asked:
            began = time.monotonic()
            report = await health.check(
                services.store, services.clock, services.settings.health, state.supervisor
            )
            state.readyz_last = last = (began, report)
    report = last[1]
    refused = state.refused  # counted now, not when the check began
    facts = {**health.as_json(report), "refused_webhooks": refused.as_json()}
    return JSONResponse(facts, status_code=200 if report.ready else 503)
