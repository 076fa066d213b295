"""What the web app holds for its requests, in one typed object: `app.state.doorstep`.

`create_web_app` (bot/web/api.py) makes it; the running app (bot/app.py) adds the answerer and the
Telegram bot. Routes read it with `of(request)`, never by attribute names on Starlette's untyped
`app.state`.
"""

import asyncio
import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import FastAPI, Request
from jinja2 import Environment

from bot.handlers.telegram import TelegramIn
from bot.health import Report
from bot.services import Services
from bot.supervise import Supervisor
from bot.tiles import Tiles
from bot.usecases.inbound import Answerer, GroupCommit
from bot.usecases.on_the_road import Pulse, newest_event
from bot.web.refused import RefusedWebhooks
from bot.web.throttle import Throttle


@dataclass
class WebState:
    services: Services
    api_key: str  # the ops API's key (X-API-Key)
    supervisor: Supervisor  # the background loops, for /readyz
    inbox_writer: GroupCommit  # webhooks store what arrives through it
    console_templates: Environment  # the console's pages (bot/web/console/templates.py)
    refused: RefusedWebhooks = field(default_factory=RefusedWebhooks)  # bad signatures, shown by /readyz
    # Signs the console's cookies: new at every start, so a restart only makes an open sign-in form reload.
    console_cookie_key: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    answerer: Answerer | None = None  # answers what the webhooks stored; they nudge it
    telegram: TelegramIn | None = None  # with a bot token: the bot and its dispatcher
    telegram_secret: str | None = None  # what Telegram sends in X-Telegram-Bot-Api-Secret-Token
    # The recipient's page (bot/web/track.py): requests a minute per link, and per client address.
    page_per_link: Throttle = field(default_factory=lambda: Throttle(30, timedelta(minutes=1)))
    page_per_address: Throttle = field(default_factory=lambda: Throttle(120, timedelta(minutes=1)))
    # When each open live stream (/t/{token}/live) of a link began (the event loop's clock).
    live_streams: dict[str, list[float]] = field(default_factory=dict)
    pulse: Pulse = field(init=False)  # wakes the recipient's open pages when the day changes
    tiles: Tiles = field(init=False)  # the page's street map, built on first use (bot/tiles)
    readyz_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    readyz_last: tuple[float, Report] | None = None  # (when the last check began, what it found)

    def __post_init__(self) -> None:
        self.pulse = Pulse(lambda: newest_event(self.services.store))
        self.services.store.on_commit.append(self.pulse.poke)
        web, eta = self.services.settings.web, self.services.settings.eta
        self.tiles = Tiles(web.map_pbf or eta.osm_pbf, web.map_cache_dir)


def of(where: Request | FastAPI) -> WebState:
    """The app's state, from a request or the app itself."""
    app = where.app if isinstance(where, Request) else where
    state: WebState = app.state.doorstep
    return state
