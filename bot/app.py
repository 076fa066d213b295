"""Composition root: settings in, a running Doorstep out (engine, store, services, web app, in that order)."""

import secrets
from dataclasses import dataclass

from fastapi import FastAPI

from bot.clock import Clock
from bot.config import Settings
from bot.services import Services, build_services
from bot.web.api import create_web_app


@dataclass
class App:
    services: Services
    web: FastAPI
    api_key: str
    generated_key: bool


async def build_app(settings: Settings, clock: Clock | None = None) -> App:
    services = await build_services(settings, clock)
    configured = settings.web.api_key.get_secret_value() if settings.web.api_key else None
    api_key = configured or secrets.token_urlsafe(24)
    return App(services, create_web_app(services, api_key), api_key, generated_key=configured is None)
