"""Inbound surfaces: each turns what arrived (SMS text, a Telegram update, a console form) into an intent."""
