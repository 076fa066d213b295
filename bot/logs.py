"""Logging set-up: one format, phone numbers masked in every record, whoever logs them, and no
library's record of the parameters it ran with."""

import logging
import re

# International (+49..., %2B49... in URLs) or national (0151 ...) numbers; not ids like ORD-20261123.
_PHONE = re.compile(r"(?<![\w+-])(\+|%2B)?((?(1)\d|0)[\d ./-]{6,}\d)")


def mask_phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match[2])
    if len(digits) < 8:
        return match[0]
    return f"{match[1] or ''}{digits[:4]}{'*' * (len(digits) - 6)}{digits[-2:]}"


def mask_phones(text: str) -> str:
    """'+4915123456789' -> '+4915*******89': enough to tell numbers apart in a log, not to call them."""
    return _PHONE.sub(mask_phone, text)


class PhoneMaskFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_phones(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class _Floor(logging.Filter):
    def __init__(self, level: int) -> None:
        super().__init__()
        self.level = level

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= self.level


# Libraries that log what they run with its parameters below these levels: aiosqlite every statement
# and its values at DEBUG (access codes, phones, session-token hashes), twilio its requests at INFO.
_FLOORS = {"aiosqlite": _Floor(logging.INFO), "twilio": _Floor(logging.WARNING)}


def hide_library_parameters() -> None:
    """Drop those records at their own logger, whatever level anyone sets later (idempotent)."""
    for name, floor in _FLOORS.items():
        logging.getLogger(name).addFilter(floor)


def setup_logging(level: str) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(PhoneMaskFilter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    hide_library_parameters()
    logging.getLogger("alembic").setLevel(max(logging.WARNING, logging.getLevelName(level)))
