"""Drivers on Telegram: `/driver CODE` linking, "Start route", stop-card buttons, photos, "Got it",
live location, `/route`, and a short help for anything else a driver writes.

Mounted before the recipients' router (bot/handlers/telegram.py), so driver commands, buttons and
text are never read as a recipient's; what comes from a chat that is no driver's goes on there. Each
handler hands the stored update to a use case (bot/usecases/driver_link.py, driver_chat.py) and
answers the press or the message; what the driver gets next (route, stop cards) goes out through the
outbox.
"""

import asyncio
import contextlib
import logging

import aiohttp
from aiogram import F, Router
from aiogram.dispatcher.event.bases import SkipHandler
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from bot.channels.telegram import keyboard as keyboard_of
from bot.domain.deliveries import StopEvent
from bot.notify import buttons, phrases
from bot.notify.buttons import Failed, GotIt, StartRoute, Stop, StopAct
from bot.notify.compose import first_name
from bot.services import Services
from bot.usecases import driver_chat, driver_link
from bot.usecases.driver_chat import Ack, Asked, Photo, Press
from bot.usecases.driver_link import Linked

log = logging.getLogger(__name__)

SAY: dict[str, str] = {
    "usage": "Send /driver and the code from your dispatcher, for example: /driver K7Q4M2XP",
    "linked": "You're linked, {name}. Your route and stops will come here.",
    "wrong": (
        "This code doesn't work: it's mistyped or was used already. Ask your dispatcher for a new one."
    ),
    "expired": "This code has expired. Ask your dispatcher for a new one.",
    "limited": "Too many wrong codes. Please try again in an hour.",
    "link_first": ("This chat isn't linked to a driver yet. Send /driver and the code from your dispatcher."),
    "option_expired": "This option has expired.",
    "started": "Route started ✓ Drive safely!",
    "start_first": "Start your route first: ▶ Start route is under your route message.",
    "no_route": "You have no stops left today.",
    "help": (
        "Your message is kept for dispatch; for anything urgent, call them.\n"
        "▶ Start route: when you leave the depot.\n"
        "📍 Arrived · ✅ Delivered · ❌ Failed: on each stop's card.\n"
        "👍 Got it: under a changed stop.\n"
        "/route: your route and current stop again."
    ),
    "arrived": "Arrived ✓",
    "delivered": "Delivered ✓ If you have a photo of where you left it, send it now.",
    "failed": "Not delivered ✓",
    "photo_saved": "📷 Photo saved with the delivery.",
    "photo_not_asked": "I keep photos right after you press Delivered on a stop.",
    "got_it": "Thanks, noted ✓",
    "got_it_again": "Already noted ✓",
}
PRESSED: dict[StopAct, StopEvent] = {
    StopAct.ARRIVED: StopEvent.ARRIVED,
    StopAct.DELIVERED: StopEvent.DELIVERED,
}


def say(key: str, language: str | None, **values: str) -> str:
    return phrases.pick(SAY, language or "en")[key].format(**values)


async def link(message: Message, command: CommandObject, services: Services, inbox_id: int) -> None:
    language = _language(message)
    if not command.args:
        await message.answer(say("usage", language))
        return
    linking = await driver_link.link(services, inbox_id, command.args, str(message.chat.id))
    if linking.outcome is not Linked.LINKED:
        await message.answer(say(linking.outcome.value, language))
    elif not linking.route_sent and linking.driver is not None:
        await message.answer(say("linked", language, name=first_name(linking.driver.name)))


async def route(message: Message, services: Services, inbox_id: int) -> None:
    asked = await driver_chat.route_again(services, inbox_id, str(message.chat.id))
    if asked is Asked.NOT_DRIVER:
        await message.answer(say("link_first", _language(message)))
    elif asked is Asked.NO_ROUTE:
        await message.answer(say("no_route", _language(message)))


async def text(message: Message, services: Services, inbox_id: int) -> None:
    if not await driver_chat.said(services, inbox_id, str(message.chat.id), message.text or ""):
        raise SkipHandler  # not a driver's chat: a recipient's text, for the recipients' router
    await message.answer(say("help", _language(message)))


async def start_pressed(
    query: CallbackQuery, callback_data: StartRoute, services: Services, inbox_id: int
) -> None:
    if not await driver_chat.start_route(services, inbox_id, _chat(query), callback_data.plan):
        await _expired(query)
        return
    await query.answer(say("started", query.from_user.language_code))
    if isinstance(query.message, Message):
        with contextlib.suppress(TelegramBadRequest):  # too old to edit, or already without the button
            await query.message.edit_reply_markup(reply_markup=None)


async def stop_pressed(query: CallbackQuery, callback_data: Stop, services: Services, inbox_id: int) -> None:
    event, language = PRESSED.get(callback_data.act), query.from_user.language_code
    if event is None:
        await _reasons(query, callback_data, services)
        return
    pressed = await driver_chat.report(services, inbox_id, _chat(query), callback_data.d, event)
    if pressed is not Press.OK:
        await _refused(query, pressed)
    elif event is StopEvent.ARRIVED:
        await query.answer(say("arrived", language))
    else:
        await query.answer()
        if isinstance(query.message, Message):
            await query.message.answer(say("delivered", language))


async def _reasons(query: CallbackQuery, callback_data: Stop, services: Services) -> None:
    """Failed opens the list of reasons on the card (Back closes it); nothing is recorded yet."""
    chat, delivery_id = _chat(query), callback_data.d
    pressed = await driver_chat.may_report(services, chat, delivery_id, StopEvent.FAILED)
    if pressed is not Press.OK or not isinstance(query.message, Message):
        await _refused(query, pressed)  # OK with no message to edit: expired too
        return
    locale = query.from_user.language_code or "en"
    opened = callback_data.act is StopAct.FAILED
    keyboard = buttons.fail_reasons(delivery_id, locale) if opened else buttons.stop_card(delivery_id, locale)
    await query.message.edit_reply_markup(reply_markup=keyboard_of(keyboard))
    await query.answer()


async def failed(query: CallbackQuery, callback_data: Failed, services: Services, inbox_id: int) -> None:
    chat, reason = _chat(query), callback_data.reason
    pressed = await driver_chat.report(services, inbox_id, chat, callback_data.d, StopEvent.FAILED, reason)
    if pressed is Press.OK:
        await query.answer(say("failed", query.from_user.language_code))
    else:
        await _refused(query, pressed)


async def got_it(query: CallbackQuery, services: Services, inbox_id: int) -> None:
    if query.message is None:
        await _expired(query)
        return
    acked = await driver_chat.acknowledge(services, inbox_id, _chat(query), query.message.message_id)
    if acked is Ack.UNKNOWN:
        await _expired(query)
    else:
        await query.answer(
            say("got_it" if acked is Ack.RECORDED else "got_it_again", query.from_user.language_code)
        )


async def _download(message: Message, file_id: str) -> bytes | None:
    """The photo's bytes from Telegram, for the recipient's page; None when Telegram does not give them
    (the file id is kept all the same, and the chat's "delivered" notice still shows the photo)."""
    if message.bot is None:
        return None
    try:
        async with asyncio.timeout(DOWNLOAD_SECONDS):
            got = await message.bot.download(file_id)
    except (TelegramAPIError, aiohttp.ClientError, TimeoutError, OSError) as error:
        log.warning("driver photo not downloaded (%s): the page shows none", type(error).__name__)
        return None
    return got.read() if got is not None else None


DOWNLOAD_SECONDS = 20


async def photo(message: Message, services: Services, inbox_id: int) -> None:
    largest = max(message.photo or [], key=lambda size: size.width * size.height)
    kept = await driver_chat.attach_photo(
        services,
        inbox_id,
        str(message.chat.id),
        largest.file_id,
        message.caption or "",
        await _download(message, largest.file_id),
    )
    if kept is Photo.NOT_DRIVER:
        raise SkipHandler  # someone else's photo: for the recipients' router, if it wants it
    await message.answer(say("photo_saved" if kept is Photo.SAVED else "photo_not_asked", _language(message)))


async def location(message: Message, services: Services) -> None:
    spot, chat = message.location, str(message.chat.id)
    if spot is not None and not await driver_chat.moved(services, chat, spot.latitude, spot.longitude):
        await message.answer(say("link_first", _language(message)))


async def live_location(edited_message: Message, services: Services) -> None:
    """A shared live location moving: silently ignored unless it is a driver's chat."""
    spot = edited_message.location
    if spot is not None:
        await driver_chat.moved(services, str(edited_message.chat.id), spot.latitude, spot.longitude)


async def _expired(query: CallbackQuery) -> None:
    await _refused(query, Press.EXPIRED)


async def _refused(query: CallbackQuery, pressed: Press) -> None:
    """A press that changed nothing: the route is to start first, or the option has expired."""
    key = "start_first" if pressed is Press.NOT_STARTED else "option_expired"
    await query.answer(say(key, query.from_user.language_code), show_alert=True)


def _chat(query: CallbackQuery) -> str:
    return str(query.message.chat.id if query.message else query.from_user.id)


def _language(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user else None


def router() -> Router:
    """A fresh router with every driver handler (one per dispatcher: aiogram routers attach once)."""
    found = Router(name="telegram-driver")
    private = F.chat.type == "private"
    found.message.register(link, Command("driver"), private)
    found.message.register(route, Command("route"), private)
    found.message.register(location, F.location, private)
    found.message.register(photo, F.photo, private)
    found.message.register(text, F.text, private)
    found.edited_message.register(live_location, F.location)
    found.callback_query.register(start_pressed, StartRoute.filter())
    found.callback_query.register(stop_pressed, Stop.filter())
    found.callback_query.register(failed, Failed.filter())
    found.callback_query.register(got_it, GotIt.filter())
    return found
