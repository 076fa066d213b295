"""A message on its way out, and the states an outbox row goes through (bot/store/outbox.py)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class MessageStatus(StrEnum):
    QUEUED = "queued"  # waiting for its time (next_attempt_at)
    SENDING = "sending"  # claimed by a dispatcher until lease_until
    CHECKING = "checking"  # outcome ambiguous: ask the provider before anything else
    SENT = "sent"
    FAILED = "failed"  # permanent error or out of attempts
    EXPIRED = "expired"  # no longer true or useful (valid_until passed)
    UNKNOWN = "unknown"  # ambiguous and the provider cannot tell: reported, never resent
    HELD = "held"  # its delivery is paused by support: queued again on resume (bot/usecases/support.py)
    POISON = "poison"  # our own handling of it failed again and again: parked for a person, never resent


FINAL = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.FAILED,
        MessageStatus.EXPIRED,
        MessageStatus.UNKNOWN,
        MessageStatus.POISON,
    }
)


@dataclass(frozen=True, slots=True)
class NewMessage:
    idem_key: str
    kind: str
    channel: str
    address: str
    locale: str
    timezone: str
    body: str
    due_at: datetime
    urgent: bool
    valid_until: datetime | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    delivery_id: int | None = None
    recipient_id: int | None = None
    driver_id: int | None = None
