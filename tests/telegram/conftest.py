"""Fixtures for Telegram tests: a recording Bot session and the telegram-test-api emulator."""

from tests.telegram.emulator import telegram_emulator
from tests.telegram.recording import recording_bot, recording_session

__all__ = ["recording_bot", "recording_session", "telegram_emulator"]
