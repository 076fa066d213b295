"""How to reach a recipient: a channel and an address, and whether it still works
(stored by bot/store/contacts.py)."""

from dataclasses import dataclass
from enum import StrEnum


class ContactState(StrEnum):
    ACTIVE = "active"
    OPTED_OUT = "opted_out"
    DEAD = "dead"  # blocked the bot, number unreachable
    INVALID = "invalid"  # not a number that can take messages


@dataclass(frozen=True, slots=True)
class Contact:
    recipient_id: int
    channel: str
    address: str
    state: ContactState
