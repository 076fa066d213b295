"""Recipients on Telegram: deep-link linking, commands, buttons and free text, translated into use cases.

Every update reaches these handlers after it was stored in the inbox (bot/handlers/telegram.py), so
each handler gets `inbox_id` and hands the stored message to a use case; the answers go out through
the outbox like every other message. Only what has no delivery to hang on (an unknown link, an
expired button) is answered here directly.
"""

import contextlib

from aiogram import F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, Message

from bot.channels.telegram import keyboard as keyboard_of
from bot.domain import intents
from bot.domain.intents import Intent
from bot.notify import buttons, phrases
from bot.notify.buttons import Act, Lang, Pick, Place, Stars
from bot.services import Services
from bot.usecases import linking
from bot.usecases.respond import Pressed, respond

SAY: dict[str, str] = {
    "welcome": (
        "Hi! I'm the delivery assistant. Open the Telegram link in your delivery message (SMS or "
        "e-mail) and I'll keep you posted here and let you change the time or where to leave it."
    ),
    "unknown": "I don't know this link. Please open the Telegram link in your latest delivery message.",
    "expired": "This link has expired: that delivery is finished.",
    "elsewhere": (
        "This delivery is already followed in another Telegram chat. Write to us if that wasn't you."
    ),
    "option_expired": "This option has expired.",
    "private": "Please write to me in a private chat.",
    "language": "Which language should I write in?",
    "language_set": "I'll write in English from now on.",
    "not_linked": "Open the Telegram link in your delivery message first.",
}


def say(key: str, language: str | None) -> str:
    return phrases.pick(SAY, language or "en")[key]


async def start_with_link(
    message: Message, command: CommandObject, services: Services, inbox_id: int
) -> None:
    outcome = await linking.link_chat(services, inbox_id, command.args or "", str(message.chat.id))
    if outcome not in (linking.Linked.LINKED, linking.Linked.AGAIN):
        await message.answer(say(outcome.value, _language(message)))


async def start(message: Message) -> None:
    await message.answer(say("welcome", _language(message)))


async def status(message: Message, services: Services, inbox_id: int) -> None:
    await respond(services, inbox_id, Pressed(intents.Status()))


async def help_(message: Message, services: Services, inbox_id: int) -> None:
    await respond(services, inbox_id, Pressed(intents.Help()))


async def language(message: Message) -> None:
    await message.answer(
        say("language", _language(message)), reply_markup=keyboard_of(buttons.languages(linking.LANGUAGES))
    )


async def language_chosen(
    query: CallbackQuery, callback_data: Lang, services: Services, inbox_id: int
) -> None:
    chat = str(query.message.chat.id) if query.message else str(query.from_user.id)
    if await linking.set_language(services, inbox_id, chat, callback_data.code):
        await query.answer(say("language_set", callback_data.code), show_alert=True)
    else:
        await query.answer(say("not_linked", query.from_user.language_code), show_alert=True)


async def not_private(message: Message) -> None:
    await message.answer(say("private", _language(message)))


async def text(message: Message, services: Services, inbox_id: int) -> None:
    """Free text and keywords: the same reading as an SMS (CODE 1234, "leave it at the back door"...)."""
    await respond(services, inbox_id)


MENU: dict[str, Intent] = {
    "ok": intents.Confirm(),
    "time": intents.AskSlots(),
    "drop": intents.AskInstructions(),
    "person": intents.Person(),
}


async def menu(query: CallbackQuery, callback_data: Act, services: Services, inbox_id: int) -> None:
    intent = MENU.get(callback_data.what)
    await _press(query, services, inbox_id, intent, callback_data.d)


async def pick(query: CallbackQuery, callback_data: Pick, services: Services, inbox_id: int) -> None:
    intent = intents.Reschedule(window=callback_data.window())
    await _press(query, services, inbox_id, intent, callback_data.d, once=True)


async def stars(query: CallbackQuery, callback_data: Stars, services: Services, inbox_id: int) -> None:
    intent = intents.Rate(callback_data.n) if 1 <= callback_data.n <= 5 else None
    await _press(query, services, inbox_id, intent, callback_data.d, once=True)


async def place(query: CallbackQuery, callback_data: Place, services: Services, inbox_id: int) -> None:
    intent = intents.SafeDrop(callback_data.place)
    await _press(query, services, inbox_id, intent, callback_data.d, once=True)


async def unknown_press(query: CallbackQuery) -> None:
    """Data we never sent (or from an older version): nothing changes."""
    await query.answer(say("option_expired", query.from_user.language_code), show_alert=True)


async def _press(
    query: CallbackQuery,
    services: Services,
    inbox_id: int,
    intent: Intent | None,
    delivery_id: int,
    *,
    once: bool = False,
) -> None:
    """Hand the press to its use case; `once`: a choice made, so its keyboard goes (edited away in place)."""
    handled = intent is not None and await respond(services, inbox_id, Pressed(intent, delivery_id))
    if not handled:
        await query.answer(say("option_expired", query.from_user.language_code), show_alert=True)
        return
    await query.answer()
    if once and isinstance(query.message, Message):
        with contextlib.suppress(TelegramBadRequest):  # too old to edit, or already without buttons
            await query.message.edit_reply_markup(reply_markup=None)


def _language(message: Message) -> str | None:
    return message.from_user.language_code if message.from_user else None


def router() -> Router:
    """A fresh router with every recipient handler (one per dispatcher: aiogram routers attach once)."""
    found = Router(name="telegram-customer")
    found.message.register(start_with_link, CommandStart(deep_link=True), F.chat.type == "private")
    found.message.register(start, CommandStart())
    found.message.register(status, Command("status"))
    found.message.register(help_, Command("help"))
    found.message.register(language, Command("language"))
    found.message.register(not_private, F.chat.type != "private")
    found.message.register(text, F.text)
    found.callback_query.register(menu, Act.filter())
    found.callback_query.register(pick, Pick.filter())
    found.callback_query.register(stars, Stars.filter())
    found.callback_query.register(place, Place.filter())
    found.callback_query.register(language_chosen, Lang.filter())
    found.callback_query.register(unknown_press)
    return found
