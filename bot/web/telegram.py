"""POST /webhooks/telegram: check the secret, store the update, answer 200, then handle it.

The update is committed to the inbox before the answer, so Telegram's retry of an update we
answered slowly (or a crash after the answer) loses and duplicates nothing. Handling runs after
the response; its outcome is written on the inbox row (bot/handlers/telegram.py).
"""

import secrets

from fastapi import APIRouter, BackgroundTasks, Request, Response

from bot.handlers import telegram
from bot.web import state
from bot.web.deps import ServicesDep
from bot.web.errors import ApiError

router = APIRouter()
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_BODY = 1_000_000  # Telegram updates are a few kB; anything near this is not one


@router.post("/webhooks/telegram", include_in_schema=False)
async def telegram_update(request: Request, services: ServicesDep, background: BackgroundTasks) -> Response:
    bot, secret = state.of(request).telegram, state.of(request).telegram_secret
    if bot is None or secret is None:
        raise ApiError(404, "not_found", "no Telegram webhook here (DOORSTEP_TELEGRAM__TOKEN, a public URL)")
    given = request.headers.get(SECRET_HEADER, "")
    if not secrets.compare_digest(given.encode(), secret.encode()):
        refused = state.of(request).refused
        refused.count("telegram", request, f"{'wrong' if given else 'missing'} {SECRET_HEADER}")
        raise ApiError(401, "unauthorized", f"missing or wrong {SECRET_HEADER}")
    body = await request.body()  # at most MAX_BODY bytes (bot/web/limits.py)
    raw, why = telegram.read(body)
    if raw is None:
        await telegram.store_malformed(services, body, why or "unreadable")
        return Response(status_code=200)  # kept for inspection; a retry would not make it readable
    inbox_id = await telegram.store(services, raw)
    if inbox_id is not None:
        background.add_task(telegram.handle, services, bot, inbox_id)
    return Response(status_code=200)
