"""Twilio's webhooks: inbound SMS and delivery reports, signed, stored before the 200.

The X-Twilio-Signature is checked against the public URL (DOORSTEP_WEB__PUBLIC_URL + the path and
query Twilio called), never the URL this app sees behind a proxy, with every form parameter; a bad
or missing signature gets 403, nothing is stored, and the refusal is counted (bot/web/refused.py).
An inbound message is stored in the inbox (unique MessageSid) and answered off the request path by
the server's Answerer (bot/usecases/inbound.py), through the outbox like every reply; Twilio
retrying the same message changes nothing. A delivery report moves the message's provider status
forward only (bot/store/receipts.py); one that says the number itself is opted out or cannot take SMS
(21610, 30005, 30006) marks it and sends the message on the recipient's next channel, as a refused send
does.
"""

from fastapi import APIRouter, BackgroundTasks, Request, Response
from starlette.datastructures import MultiDict
from twilio.request_validator import RequestValidator

from bot.channels import twilio as sms
from bot.store import receipts
from bot.usecases import fallback
from bot.usecases.inbound import Arrived
from bot.usecases.respond import respond
from bot.web import state
from bot.web.deps import ServicesDep
from bot.web.errors import ApiError

router = APIRouter()
SIGNATURE = "X-Twilio-Signature"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


async def _signed_form(request: Request, services: ServicesDep) -> dict[str, str]:
    """The form Twilio posted, once its signature checks out against the public URL."""
    settings = services.settings
    token, public = settings.twilio.auth_token, settings.web.public_url
    if token is None or not public:
        raise ApiError(404, "not_found", "no Twilio webhook here (DOORSTEP_TWILIO__AUTH_TOKEN, a public URL)")
    form = MultiDict([(key, str(value)) for key, value in (await request.form()).multi_items()])
    url = public.rstrip("/") + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    signature = request.headers.get(SIGNATURE, "")
    # Every value of a repeated key is signed: the validator reads them all through `getlist`.
    if not signature or not RequestValidator(token.get_secret_value()).validate(url, form, signature):
        refused = state.of(request).refused
        refused.count("twilio", request, f"{'wrong' if signature else 'missing'} {SIGNATURE}")
        raise ApiError(403, "forbidden", f"missing or wrong {SIGNATURE} for {url}")
    return dict(form)  # a repeated key keeps its last value


@router.post("/webhooks/twilio/sms", include_in_schema=False)
async def inbound_sms(request: Request, services: ServicesDep, background: BackgroundTasks) -> Response:
    params = await _signed_form(request, services)
    sid, sender = params.get("MessageSid") or params.get("SmsSid"), params.get("From")
    if not sid or not sender:
        raise ApiError(400, "bad_request", "an inbound SMS needs MessageSid and From")
    writer = state.of(request).inbox_writer
    inbox_id = await writer.store(Arrived("sms", sid, sender, params.get("Body", "")[:1600], params))
    answerer = state.of(request).answerer
    if inbox_id is not None and answerer is not None:
        answerer.nudge()  # the running server answers off the request path
    elif inbox_id is not None:
        background.add_task(respond, services, inbox_id)  # an app without its background work (tests)
    return Response(EMPTY_TWIML, media_type="text/xml")


@router.post("/webhooks/twilio/status", include_in_schema=False)
async def delivery_report(request: Request, services: ServicesDep) -> Response:
    params = await _signed_form(request, services)
    sid, status = params.get("MessageSid") or params.get("SmsSid"), params.get("MessageStatus")
    if not sid or not status:
        raise ApiError(400, "bad_request", "a status callback needs MessageSid and MessageStatus")
    async with services.store.tx(urgent=True) as conn:
        error, now = params.get("ErrorCode") or None, services.clock.now()
        message_id = await receipts.report(conn, "sms", sid, status.lower(), error, params, now)
        state = sms.address_state(error) if status.lower() in ("undelivered", "failed") else None
        if message_id is not None and state is not None:  # the number itself: mark it, use the next channel
            await fallback.reroute(conn, [(message_id, state)], now, composer=services.composer)
    return Response(status_code=204)
